namespace Chekt.PartnerApi.Auth;

/// <summary>
/// The form-encoded parameters of a token or revocation request. RFC 6749 §3.1: parameters without
/// a value count as omitted, and no parameter may appear twice.
/// </summary>
public sealed class OAuthForm
{
    private readonly Dictionary<string, string> _values;

    private OAuthForm(Dictionary<string, string> values) => _values = values;

    public string? this[string name] => _values.GetValueOrDefault(name);

    public bool Has(string name) => _values.ContainsKey(name);

    public IEnumerable<KeyValuePair<string, string>> All => _values;

    public static async Task<(OAuthForm? Form, OAuthError? Error)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType || request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true)
        {
            return (null, OAuthError.InvalidRequest("The request must be form-encoded (application/x-www-form-urlencoded)."));
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException)
        {
            return (null, OAuthError.InvalidRequest("The form body could not be read."));
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in form)
        {
            if (value.Count > 1)
            {
                return (null, OAuthError.InvalidRequest($"The parameter '{key}' appears more than once."));
            }

            if (!string.IsNullOrEmpty(value[0]))
            {
                values[key] = value[0]!;
            }
        }

        return (new OAuthForm(values), null);
    }

    public static OAuthForm FromQuery(IQueryCollection query, out string? repeated)
    {
        repeated = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in query)
        {
            if (value.Count > 1)
            {
                repeated ??= key;
                continue;
            }

            if (!string.IsNullOrEmpty(value[0]))
            {
                values[key] = value[0]!;
            }
        }

        return new OAuthForm(values);
    }
}
