using Chekt.PartnerApi.Http;

namespace Chekt.PartnerApi.Validation;

/// <summary>
/// Collects every field problem of a request body (spec §7), so that one answer lists them all.
/// For partial updates, only present fields are checked: absent = unchanged, <c>null</c> clears an
/// optional field, and a required field can be neither null nor blank.
/// </summary>
public sealed class BodyValidator
{
    private readonly List<ErrorDetail> _errors = [];

    public ApiError? Error => _errors.Count == 0 ? null : ApiError.Validation(_errors);

    public void Add(string field, string message) => _errors.Add(new ErrorDetail(field, message));

    /// <summary>A required string: present, not null, not blank, within its length, and of its format.</summary>
    public void Required(string field, string? value, int maxLength, Func<string, string?>? format = null)
    {
        if (value is null)
        {
            Add(field, $"{field} is required.");
        }
        else if (Text(field, value, maxLength, required: true) && format?.Invoke(value) is { } problem)
        {
            Add(field, $"{field} {problem}");
        }
    }

    /// <summary>A field of a partial update: checked only when present.</summary>
    public void Update<T>(JsonBody<T> body, string field, string? value, int maxLength, bool required = false, Func<string, string?>? format = null)
    {
        if (!body.Has(field))
        {
            return;
        }

        if (value is null)
        {
            if (required)
            {
                Add(field, $"{field} cannot be null.");
            }

            return;
        }

        if (Text(field, value, maxLength, required) && format?.Invoke(value) is { } problem)
        {
            Add(field, $"{field} {problem}");
        }
    }

    /// <summary>An optional field of a create request: null or absent is fine, otherwise checked.</summary>
    public void Optional(string field, string? value, int maxLength, Func<string, string?>? format = null)
    {
        if (value is not null && Text(field, value, maxLength, required: false) && format?.Invoke(value) is { } problem)
        {
            Add(field, $"{field} {problem}");
        }
    }

    public static string? Email(string value) =>
        FieldRules.IsValidEmail(value) ? null : "must be a valid email address.";

    public static string? Phone(string value) =>
        FieldRules.IsValidPhone(value) ? null : "must be a phone number: digits, an optional leading +, spaces, dashes, dots or parentheses.";

    public static string? TimeZone(string value) =>
        FieldRules.IsIanaTimeZone(value) ? null : "must be an IANA time zone id such as Asia/Seoul or America/New_York.";

    private bool Text(string field, string value, int maxLength, bool required)
    {
        if (required && FieldRules.IsBlank(value))
        {
            Add(field, $"{field} must not be empty or blank.");
            return false;
        }

        if (!FieldRules.IsWithinLength(value, maxLength))
        {
            Add(field, $"{field} must be at most {maxLength} characters.");
            return false;
        }

        return true;
    }
}
