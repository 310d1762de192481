namespace Chekt.PartnerApi.Contacts;

/// <summary>The contact object of the Contacts seed.</summary>
public sealed record ContactResponse(
    long ContactId,
    string ExternalContactId,
    string FirstName,
    string LastName,
    string? PhoneNumber,
    string? Email,
    string CreatedAt);

public sealed record CreateContactRequest(string? ExternalContactId, string? FirstName, string? LastName, string? PhoneNumber, string? Email);

/// <summary>A partial update (all fields optional; <c>external_contact_id</c> cannot change).</summary>
public sealed record UpdateContactRequest(string? FirstName, string? LastName, string? PhoneNumber, string? Email);

internal sealed class ContactRow
{
    public long Id { get; init; }

    public string ExternalContactId { get; init; } = "";

    public string FirstName { get; init; } = "";

    public string LastName { get; init; } = "";

    public string? PhoneNumber { get; init; }

    public string? Email { get; init; }

    public long Version { get; init; }

    public long CreatedAt { get; init; }

    public ContactResponse AsDto() => new(Id, ExternalContactId, FirstName, LastName, PhoneNumber, Email, Http.Timestamps.Format(CreatedAt));
}
