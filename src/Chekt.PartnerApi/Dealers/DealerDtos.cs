using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;

namespace Chekt.PartnerApi.Dealers;

/// <summary>A CHeKT dealer company, as the calling partner sees it.</summary>
/// <param name="DealerId">CHeKT's id of the dealer.</param>
/// <param name="ExternalDealerId">Your id for the dealer, given when connecting it; null when it is not connected to your partner account.</param>
/// <param name="CompanyName">The dealer's registered company name.</param>
/// <param name="CompanyAddress1">Primary street address.</param>
/// <param name="CompanyAddress2">Additional address details.</param>
/// <param name="CompanyEmail">Email address for dealer communication.</param>
/// <param name="CompanyPhoneNumber">Primary phone number.</param>
/// <param name="CreatedAt">When the dealer was registered (UTC, ISO 8601 with milliseconds).</param>
public sealed record DealerResponse(
    long DealerId,
    string? ExternalDealerId,
    string CompanyName,
    string? CompanyAddress1,
    string? CompanyAddress2,
    string? CompanyEmail,
    string? CompanyPhoneNumber,
    string CreatedAt);

/// <summary>Connects the signed-in dealer admin's dealer to your partner account.</summary>
/// <param name="ExternalDealerId">Your id for the dealer; unique among the dealers of your partner account.</param>
/// <param name="CompanyName">The dealer's name in your system, kept with the connection (the registered company name does not change).</param>
public sealed record ConnectDealerRequest(
    [property: Required, MaxLength(FieldRules.ExternalIdMaxLength)] string? ExternalDealerId,
    [property: Required, MaxLength(FieldRules.NameMaxLength)] string? CompanyName);

/// <summary>A partial update: absent fields stay as they are, null clears an optional one.</summary>
/// <param name="CompanyName">The registered company name; cannot be cleared.</param>
/// <param name="CompanyAddress1">Primary street address.</param>
/// <param name="CompanyAddress2">Additional address details.</param>
/// <param name="CompanyEmail">Email address for dealer communication.</param>
/// <param name="CompanyPhoneNumber">Digits with an optional leading +, spaces, dashes, dots or parentheses (3 to 20 digits).</param>
public sealed record UpdateDealerRequest(
    [property: NonNullable, MaxLength(FieldRules.NameMaxLength)] string? CompanyName,
    [property: MaxLength(FieldRules.TextMaxLength)] string? CompanyAddress1,
    [property: MaxLength(FieldRules.TextMaxLength)] string? CompanyAddress2,
    [property: EmailAddress, MaxLength(FieldRules.EmailMaxLength)] string? CompanyEmail,
    [property: MaxLength(FieldRules.PhoneMaxLength)] string? CompanyPhoneNumber);

/// <summary>A dealer as stored.</summary>
internal sealed class DealerRow
{
    /// <summary>The columns of a row, for a query over <c>dealers d</c>; <see cref="Read"/> reads them by position.</summary>
    public const string Columns =
        "d.id AS Id, d.company_name AS CompanyName, d.company_address1 AS CompanyAddress1, d.company_address2 AS CompanyAddress2, "
        + "d.company_email AS CompanyEmail, d.company_phone_number AS CompanyPhoneNumber, d.version AS Version, d.created_at AS CreatedAt";

    public long Id { get; init; }

    public string CompanyName { get; init; } = "";

    public string? CompanyAddress1 { get; init; }

    public string? CompanyAddress2 { get; init; }

    public string? CompanyEmail { get; init; }

    public string? CompanyPhoneNumber { get; init; }

    public long Version { get; init; }

    public long CreatedAt { get; init; }

    /// <summary>Reads the <see cref="Columns"/>, starting at column <paramref name="first"/>.</summary>
    public static DealerRow Read(DbDataReader reader, int first = 0) => new()
    {
        Id = reader.GetInt64(first),
        CompanyName = reader.GetString(first + 1),
        CompanyAddress1 = reader.IsDBNull(first + 2) ? null : reader.GetString(first + 2),
        CompanyAddress2 = reader.IsDBNull(first + 3) ? null : reader.GetString(first + 3),
        CompanyEmail = reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
        CompanyPhoneNumber = reader.IsDBNull(first + 5) ? null : reader.GetString(first + 5),
        Version = reader.GetInt64(first + 6),
        CreatedAt = reader.GetInt64(first + 7),
    };

    public DealerResponse AsDto(string? externalDealerId) => new(
        Id, externalDealerId, CompanyName, CompanyAddress1, CompanyAddress2, CompanyEmail, CompanyPhoneNumber,
        Http.Timestamps.Format(CreatedAt));
}
