namespace Chekt.PartnerApi.Client;

/// <summary>A person called during an alarm at a site.</summary>
public sealed class Contact : PartnerApiResource
{
    /// <summary>The CHeKT id of the contact.</summary>
    public long ContactId { get; init; }

    /// <summary>Your id for the contact.</summary>
    public string ExternalContactId { get; init; } = "";

    /// <summary>The first name.</summary>
    public string FirstName { get; init; } = "";

    /// <summary>The last name.</summary>
    public string LastName { get; init; } = "";

    /// <summary>The phone number.</summary>
    public string? PhoneNumber { get; init; }

    /// <summary>The email address.</summary>
    public string? Email { get; init; }

    /// <summary>When the contact was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The body of <see cref="ContactsClient.CreateAsync"/>.</summary>
public sealed class CreateContactRequest
{
    /// <summary>Your id for the contact, unique per site (at most 128 characters).</summary>
    public required string ExternalContactId { get; init; }

    /// <summary>The first name.</summary>
    public required string FirstName { get; init; }

    /// <summary>The last name.</summary>
    public required string LastName { get; init; }

    /// <summary>The phone number: digits with an optional leading <c>+</c>, spaces, dashes, dots or parentheses.</summary>
    public string? PhoneNumber { get; init; }

    /// <summary>The email address.</summary>
    public string? Email { get; init; }
}

/// <summary>
/// A partial update of a contact: properties left unset are not sent and stay as they are; a
/// property set to <see langword="null"/> clears the field. See <see cref="Optional{T}"/>.
/// </summary>
public sealed class UpdateContactRequest
{
    /// <summary>The first name; it cannot be cleared.</summary>
    public Optional<string> FirstName { get; set; }

    /// <summary>The last name; it cannot be cleared.</summary>
    public Optional<string> LastName { get; set; }

    /// <summary>The phone number; <see langword="null"/> clears it.</summary>
    public Optional<string?> PhoneNumber { get; set; }

    /// <summary>The email address; <see langword="null"/> clears it.</summary>
    public Optional<string?> Email { get; set; }
}
