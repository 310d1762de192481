namespace Chekt.PartnerApi.Dealers;

/// <summary>The dealer object of the Dealers seed; <c>external_dealer_id</c> is the calling partner's id for it.</summary>
public sealed record DealerResponse(
    long DealerId,
    string? ExternalDealerId,
    string CompanyName,
    string? CompanyAddress1,
    string? CompanyAddress2,
    string? CompanyEmail,
    string? CompanyPhoneNumber,
    string CreatedAt);

public sealed record ConnectDealerRequest(string? ExternalDealerId, string? CompanyName);

public sealed record UpdateDealerRequest(
    string? CompanyName,
    string? CompanyAddress1,
    string? CompanyAddress2,
    string? CompanyEmail,
    string? CompanyPhoneNumber);

/// <summary>A dealer as stored.</summary>
internal sealed class DealerRow
{
    public long Id { get; init; }

    public string CompanyName { get; init; } = "";

    public string? CompanyAddress1 { get; init; }

    public string? CompanyAddress2 { get; init; }

    public string? CompanyEmail { get; init; }

    public string? CompanyPhoneNumber { get; init; }

    public long Version { get; init; }

    public long CreatedAt { get; init; }

    public DealerResponse AsDto(string? externalDealerId) => new(
        Id, externalDealerId, CompanyName, CompanyAddress1, CompanyAddress2, CompanyEmail, CompanyPhoneNumber,
        Http.Timestamps.Format(CreatedAt));
}
