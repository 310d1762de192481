using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;

namespace Chekt.PartnerApi.Contacts;

/// <summary>A person called during an alarm at a site.</summary>
/// <param name="ContactId">CHeKT's id of the contact.</param>
/// <param name="ExternalContactId">Your id for the contact; unique per site.</param>
/// <param name="FirstName">The contact's first name.</param>
/// <param name="LastName">The contact's last name.</param>
/// <param name="PhoneNumber">The contact's phone number.</param>
/// <param name="Email">The contact's email address.</param>
/// <param name="CreatedAt">When the contact was created (UTC, ISO 8601 with milliseconds).</param>
public sealed record ContactResponse(
    long ContactId,
    string ExternalContactId,
    string FirstName,
    string LastName,
    string? PhoneNumber,
    string? Email,
    string CreatedAt);

/// <summary>A new contact.</summary>
/// <param name="ExternalContactId">Your id for the contact; unique per site (else 409 <c>conflict</c>).</param>
/// <param name="FirstName">The contact's first name.</param>
/// <param name="LastName">The contact's last name.</param>
/// <param name="PhoneNumber">Digits with an optional leading +, spaces, dashes, dots or parentheses (3 to 20 digits).</param>
/// <param name="Email">The contact's email address.</param>
public sealed record CreateContactRequest(
    [property: Required, MaxLength(FieldRules.ExternalIdMaxLength)] string? ExternalContactId,
    [property: Required, MaxLength(FieldRules.NameMaxLength)] string? FirstName,
    [property: Required, MaxLength(FieldRules.NameMaxLength)] string? LastName,
    [property: MaxLength(FieldRules.PhoneMaxLength)] string? PhoneNumber,
    [property: EmailAddress, MaxLength(FieldRules.EmailMaxLength)] string? Email);

/// <summary>A partial update (all fields optional; <c>external_contact_id</c> cannot change): absent fields stay as they are, null clears an optional one.</summary>
/// <param name="FirstName">The contact's first name; cannot be cleared.</param>
/// <param name="LastName">The contact's last name; cannot be cleared.</param>
/// <param name="PhoneNumber">Digits with an optional leading +, spaces, dashes, dots or parentheses (3 to 20 digits).</param>
/// <param name="Email">The contact's email address.</param>
public sealed record UpdateContactRequest(
    [property: NonNullable, MaxLength(FieldRules.NameMaxLength)] string? FirstName,
    [property: NonNullable, MaxLength(FieldRules.NameMaxLength)] string? LastName,
    [property: MaxLength(FieldRules.PhoneMaxLength)] string? PhoneNumber,
    [property: EmailAddress, MaxLength(FieldRules.EmailMaxLength)] string? Email);

internal sealed class ContactRow
{
    /// <summary>The select list for a contact row; <see cref="Read"/> reads it by position.</summary>
    public const string Columns =
        """
        id AS Id, external_contact_id AS ExternalContactId, first_name AS FirstName, last_name AS LastName,
        phone_number AS PhoneNumber, email AS Email, version AS Version, created_at AS CreatedAt
        """;

    public long Id { get; init; }

    public string ExternalContactId { get; init; } = "";

    public string FirstName { get; init; } = "";

    public string LastName { get; init; } = "";

    public string? PhoneNumber { get; init; }

    public string? Email { get; init; }

    public long Version { get; init; }

    public long CreatedAt { get; init; }

    public static ContactRow Read(DbDataReader reader, int first = 0) => new()
    {
        Id = reader.GetInt64(first),
        ExternalContactId = reader.GetString(first + 1),
        FirstName = reader.GetString(first + 2),
        LastName = reader.GetString(first + 3),
        PhoneNumber = reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
        Email = reader.IsDBNull(first + 5) ? null : reader.GetString(first + 5),
        Version = reader.GetInt64(first + 6),
        CreatedAt = reader.GetInt64(first + 7),
    };

    public ContactResponse AsDto() => new(Id, ExternalContactId, FirstName, LastName, PhoneNumber, Email, Http.Timestamps.Format(CreatedAt));
}
