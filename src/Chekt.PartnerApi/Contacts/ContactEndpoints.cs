using System.Data.Common;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Chekt.PartnerApi.Contacts;

/// <summary>The Contacts API (seed 002): the five endpoints under <c>/dealers/{dealerId}/sites/{siteId}/contacts</c>.</summary>
public static class ContactEndpoints
{
    private const string ContactColumns = ContactRow.Columns;

    private const string SelectContacts = "SELECT " + ContactColumns + " FROM contacts";

    // Bound by hand (TypedRows.AddParameter): creating contacts is the most frequent write.
    private const string InsertContact =
        "INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, phone_number, email, created_at, updated_at)"
        + " VALUES (@siteId, @externalContactId, @firstName, @lastName, @phoneNumber, @email, @now, @now)"
        + " RETURNING " + ContactColumns;

    public static RouteGroupBuilder MapContactEndpoints(this RouteGroupBuilder api)
    {
        var site = api.MapDealerScoped().MapSiteScoped().WithTags("Contacts");
        site.MapPost("/contacts", CreateAsync).RequireScope(Scopes.CreateSiteContacts).WithName("CreateContact")
            .WithSummary("Create a contact")
            .AcceptsJsonBody<CreateContactRequest>()
            .WithOptimisticConcurrency()
            .ProducesError(StatusCodes.Status409Conflict, "`conflict`: a contact with this `external_contact_id` already exists on the site.");
        site.MapGet("/contacts", List).RequireScope(Scopes.ReadSiteContacts).WithMetadata(new AllowedQueryParameters("limit", "after"), new ReadsContactPage()).WithName("ListContacts")
            .WithSummary("List a site's contacts");
        site.MapGet("/contacts/{contactId}", Get).RequireScope(Scopes.ReadSiteContacts).WithMetadata(new ReadsContactRow()).WithName("GetContact")
            .WithSummary("Get a contact")
            .WithOptimisticConcurrency();
        site.MapPut("/contacts/{contactId}", UpdateAsync).RequireScope(Scopes.UpdateSiteContacts).WithName("UpdateContact")
            .WithSummary("Update a contact")
            .WithDescription("Changes only the fields present in the body; `null` clears an optional field; `first_name` and `last_name` cannot be cleared.")
            .AcceptsJsonBody<UpdateContactRequest>()
            .WithOptimisticConcurrency();
        site.MapDelete("/contacts/{contactId}", DeleteAsync).RequireScope(Scopes.DeleteSiteContacts).WithName("DeleteContact")
            .WithSummary("Delete a contact")
            .WithDescription("Removes the contact from alarm verification and notification lists; no body on success.")
            .WithOptimisticConcurrency();
        return api;
    }

    private static async Task<Results<JsonCreated<ContactResponse>, ApiError>> CreateAsync(HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.CreateContactRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var request = read.Body!.Value;
        var validator = new BodyValidator();
        validator.Required("external_contact_id", request.ExternalContactId, FieldRules.ExternalIdMaxLength);
        validator.Required("first_name", request.FirstName, FieldRules.NameMaxLength);
        validator.Required("last_name", request.LastName, FieldRules.NameMaxLength);
        validator.Optional("phone_number", request.PhoneNumber, FieldRules.PhoneMaxLength, BodyValidator.Phone);
        validator.Optional("email", request.Email, FieldRules.EmailMaxLength, BodyValidator.Email);
        if (validator.Error is { } invalid)
        {
            return invalid;
        }

        var dealer = context.GetDealerAccess();
        var site = context.GetSiteAccess();
        await using var connection = await db.OpenAsync(cancellationToken);
        ContactRow contact;
        try
        {
            // The write answers with the stored row (RETURNING): no second round trip to read it back.
            await using var insert = connection.CreateCommand();
            insert.CommandText = InsertContact;
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            insert.AddParameter("siteId", site.SiteId);
            insert.AddParameter("externalContactId", request.ExternalContactId);
            insert.AddParameter("firstName", request.FirstName);
            insert.AddParameter("lastName", request.LastName);
            insert.AddParameter("phoneNumber", request.PhoneNumber);
            insert.AddParameter("email", request.Email);
            insert.AddParameter("now", now);
            contact = await insert.QueryFirstRowAsync(r => ContactRow.Read(r), cancellationToken)
                ?? throw new InvalidOperationException("INSERT ... RETURNING answered no row.");
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return ApiError.Conflict(ErrorCodes.Conflict, $"A contact with external_contact_id '{request.ExternalContactId}' already exists on this site.", "external_contact_id");
        }
        catch (DbException exception) when (DbErrors.IsForeignKeyViolation(exception))
        {
            return ApiError.NotFound("site_not_found", $"Site {site.SiteId} does not exist."); // deleted meanwhile
        }

        ETags.Set(context, contact.Version);
        return JsonAnswers.Created($"{context.Request.PathBase}/partner/v1/dealers/{dealer.DealerId}/sites/{site.SiteId}/contacts/{contact.Id}", contact.AsDto());
    }

    private static Results<WrittenJsonOk<IReadOnlyList<ContactResponse>>, ApiError> List(HttpContext context)
    {
        // The access check read the page in its own query (ReadsContactPage), unless limit or after was bad,
        // and wrote it as the answer's JSON.
        if (context.Features.Get<ContactPageLookup>() is { } lookup && lookup.SiteId == context.GetSiteAccess().SiteId)
        {
            if (lookup.NextAfter is { } lastId)
            {
                lookup.Page.SetNextLink(context, lastId);
            }

            return JsonAnswers.OkWritten<IReadOnlyList<ContactResponse>>(lookup.Json);
        }

        return Page.Read(context.Request).Error ?? throw new InvalidOperationException("The contact list must be marked ReadsContactPage.");
    }

    private static Results<JsonOk<ContactResponse>, ApiError> Get(HttpContext context, string contactId)
    {
        if (!PartnerApiAuthorization.TryParseId(contactId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("contactId");
        }

        // The access check read the contact's row in its own query (ReadsContactRow).
        var lookup = context.Features.Get<ContactLookup>() is { } found && found.ContactId == id
            ? found
            : throw new InvalidOperationException("GET contact must be marked ReadsContactRow.");
        if (lookup.Row is not { } contact)
        {
            return ContactNotFound(id);
        }

        ETags.Set(context, contact.Version);
        return JsonAnswers.Ok(contact.AsDto());
    }

    private static async Task<Results<JsonOk<ContactResponse>, ApiError>> UpdateAsync(HttpContext context, string contactId, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!PartnerApiAuthorization.TryParseId(contactId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("contactId");
        }

        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.UpdateContactRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var (body, request) = (read.Body!, read.Body!.Value);
        var validator = new BodyValidator();
        validator.Update(body, "first_name", request.FirstName, FieldRules.NameMaxLength, required: true);
        validator.Update(body, "last_name", request.LastName, FieldRules.NameMaxLength, required: true);
        validator.Update(body, "phone_number", request.PhoneNumber, FieldRules.PhoneMaxLength, format: BodyValidator.Phone);
        validator.Update(body, "email", request.Email, FieldRules.EmailMaxLength, format: BodyValidator.Email);
        if (validator.Error is { } invalid)
        {
            return invalid;
        }

        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var siteId = context.GetSiteAccess().SiteId;
        await using var connection = await db.OpenAsync(cancellationToken);
        var columns = new[] { "first_name", "last_name", "phone_number", "email" }.Where(body.Has);
        var contact = await connection.QueryFirstRowAsync(new CommandDefinition(
            $"UPDATE contacts SET {PartialUpdate.SetClause(columns)} WHERE id = @id AND site_id = @siteId{ifMatch.Condition} RETURNING {ContactColumns}",
            new
            {
                id, siteId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions, now = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                first_name = request.FirstName, last_name = request.LastName, phone_number = request.PhoneNumber, email = request.Email,
            },
            cancellationToken: cancellationToken), r => ContactRow.Read(r));
        if (contact is null)
        {
            // Nothing changed: either there is no such contact here, or If-Match named an older version.
            return await ReadAsync(connection, siteId, id, cancellationToken) is null ? ContactNotFound(id) : ETags.PreconditionFailed();
        }

        ETags.Set(context, contact.Version);
        return JsonAnswers.Ok(contact.AsDto());
    }

    private static async Task<Results<NoContent, ApiError>> DeleteAsync(HttpContext context, string contactId, Db db, CancellationToken cancellationToken)
    {
        if (!PartnerApiAuthorization.TryParseId(contactId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("contactId");
        }

        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var siteId = context.GetSiteAccess().SiteId;
        await using var connection = await db.OpenAsync(cancellationToken);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM contacts WHERE id = @id AND site_id = @siteId" + ifMatch.Condition,
            new { id, siteId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions }, cancellationToken: cancellationToken));
        if (deleted == 0)
        {
            return await ReadAsync(connection, siteId, id, cancellationToken) is null ? ContactNotFound(id) : ETags.PreconditionFailed();
        }

        return TypedResults.NoContent();
    }

    // Note: the site is part of every lookup, so a contact id of another site (or dealer) is 404.
    private static Task<ContactRow?> ReadAsync(DbConnection connection, long siteId, long contactId, CancellationToken cancellationToken) =>
        connection.QueryFirstRowAsync(new CommandDefinition(
            SelectContacts + " WHERE id = @contactId AND site_id = @siteId", new { contactId, siteId }, cancellationToken: cancellationToken), r => ContactRow.Read(r));

    private static ApiError ContactNotFound(long contactId) => ApiError.NotFound("contact_not_found", $"Contact {contactId} does not exist.");
}
