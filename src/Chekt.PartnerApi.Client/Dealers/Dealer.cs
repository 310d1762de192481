namespace Chekt.PartnerApi.Client;

/// <summary>A CHeKT dealer company.</summary>
public sealed class Dealer : PartnerApiResource
{
    /// <summary>The CHeKT id of the dealer.</summary>
    public long DealerId { get; init; }

    /// <summary>Your id for the dealer, given when you connected it; <see langword="null"/> when you are not connected.</summary>
    public string? ExternalDealerId { get; init; }

    /// <summary>The company name as CHeKT has it.</summary>
    public string CompanyName { get; init; } = "";

    /// <summary>The first address line.</summary>
    public string? CompanyAddress1 { get; init; }

    /// <summary>The second address line.</summary>
    public string? CompanyAddress2 { get; init; }

    /// <summary>The company's email address.</summary>
    public string? CompanyEmail { get; init; }

    /// <summary>The company's phone number.</summary>
    public string? CompanyPhoneNumber { get; init; }

    /// <summary>When the dealer was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The body of <see cref="DealersClient.ConnectAsync"/>.</summary>
public sealed class ConnectDealerRequest
{
    /// <summary>Your id for the dealer (at most 128 characters).</summary>
    public required string ExternalDealerId { get; init; }

    /// <summary>The company name in your system; kept with the connection (CHeKT's own name stays).</summary>
    public required string CompanyName { get; init; }
}

/// <summary>
/// A partial update of a dealer: properties left unset are not sent and stay as they are; a
/// property set to <see langword="null"/> clears the field. See <see cref="Optional{T}"/>.
/// </summary>
public sealed class UpdateDealerRequest
{
    /// <summary>The company name; it cannot be cleared.</summary>
    public Optional<string> CompanyName { get; set; }

    /// <summary>The first address line; <see langword="null"/> clears it.</summary>
    public Optional<string?> CompanyAddress1 { get; set; }

    /// <summary>The second address line; <see langword="null"/> clears it.</summary>
    public Optional<string?> CompanyAddress2 { get; set; }

    /// <summary>The email address; <see langword="null"/> clears it.</summary>
    public Optional<string?> CompanyEmail { get; set; }

    /// <summary>The phone number; <see langword="null"/> clears it.</summary>
    public Optional<string?> CompanyPhoneNumber { get; set; }
}
