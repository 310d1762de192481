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

    // Bound by hand (TypedRows.AddParameter): creating contacts is the most frequent write. It inserts only where the
    // caller may reach the site (ChecksAccessInWrite), and answers with the stored row (RETURNING): no read before it, to
    // check access, and none after it, to read the row back.
    private const string InsertContact =
        "INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, phone_number, email, created_at, updated_at)"
        + " SELECT @siteId, @externalContactId, @firstName, @lastName, @phoneNumber, @email, @now, @now"
        + " WHERE " + PartnerApiAuthorization.SiteAccessCondition
        + " RETURNING " + ContactColumns;

    public static RouteGroupBuilder MapContactEndpoints(this RouteGroupBuilder api)
    {
        var site = api.MapDealerScoped().MapSiteScoped().WithTags("Contacts");
        site.MapPost("/contacts", CreateAsync).RequireScope(Scopes.CreateSiteContacts).WithMetadata(new ChecksAccessInWrite()).WithName("CreateContact")
            .WithSummary("Create a contact")
            .AcceptsJsonBody<CreateContactRequest>()
            .WithOptimisticConcurrency()
            .ProducesError(StatusCodes.Status409Conflict, "`conflict`: a contact with this `external_contact_id` already exists on the site (`field` names it);"
                + " or, rarely, the dealer's connection or the site changed while the contact was being created: send the request again.");
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
        // Without an Idempotency-Key the access rules are checked by the insert itself (ChecksAccessInWrite); with one, they
        // were checked before, and the insert checks them again.
        var pending = context.Features.Get<PendingSiteAccess>();
        var (dealerId, siteId) = pending is not null
            ? (pending.DealerId, pending.SiteId)
            : (context.GetDealerAccess().DealerId, context.GetSiteAccess().SiteId);
        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.CreateContactRequest, cancellationToken);
        if (read.Error is not null)
        {
            return await AccessErrorUnlessCheckedAsync(context, db, pending) ?? read.Error;
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
            return await AccessErrorUnlessCheckedAsync(context, db, pending) ?? invalid;
        }

        ContactRow? contact;
        try
        {
            contact = await InsertAsync(context, db, clock, dealerId, siteId, request, cancellationToken);
            if (contact is null)
            {
                // The caller may not reach the site: the access check says why, as it would have before the insert.
                if (await context.SiteAccessErrorAsync(db, dealerId, siteId) is { } refused)
                {
                    return refused;
                }

                // Access was granted between the insert and the check (a dealer connected again): once more.
                contact = await InsertAsync(context, db, clock, dealerId, siteId, request, cancellationToken);
            }
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return ApiError.Conflict(ErrorCodes.Conflict, $"A contact with external_contact_id '{request.ExternalContactId}' already exists on this site.", "external_contact_id");
        }
        catch (DbException exception) when (DbErrors.IsForeignKeyViolation(exception))
        {
            return ApiError.NotFound("site_not_found", $"Site {siteId} does not exist."); // deleted while the insert ran
        }

        if (contact is null)
        {
            return ApiError.Conflict(ErrorCodes.Conflict, "The dealer's connection or site changed while the contact was being created; send the request again.");
        }

        ETags.Set(context, contact.Version);
        return JsonAnswers.Created($"{context.Request.PathBase}/partner/v1/dealers/{dealerId}/sites/{siteId}/contacts/{contact.Id}", contact.AsDto());
    }

    /// <summary>For a request whose access the insert was to check (<see cref="PendingSiteAccess"/>) but that fails before it: the access error, if any, which comes before the body's.</summary>
    private static async ValueTask<ApiError?> AccessErrorUnlessCheckedAsync(HttpContext context, Db db, PendingSiteAccess? pending) =>
        pending is null ? null : await context.SiteAccessErrorAsync(db, pending.DealerId, pending.SiteId);

    /// <summary>The stored contact, or null when the caller may not reach the site (<see cref="PartnerApiAuthorization.SiteAccessCondition"/>).</summary>
    private static async Task<ContactRow?> InsertAsync(
        HttpContext context, Db db, TimeProvider clock, long dealerId, long siteId, CreateContactRequest request, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var insert = connection.CreateCommand();
        insert.CommandText = InsertContact;
        insert.AddParameter("siteId", siteId);
        insert.AddParameter("externalContactId", request.ExternalContactId);
        insert.AddParameter("firstName", request.FirstName);
        insert.AddParameter("lastName", request.LastName);
        insert.AddParameter("phoneNumber", request.PhoneNumber);
        insert.AddParameter("email", request.Email);
        insert.AddParameter("now", clock.GetUtcNow().ToUnixTimeMilliseconds());
        insert.AddParameter("dealerId", dealerId);
        insert.AddParameter("partnerId", context.GetCaller().PartnerId);
        return await insert.QueryFirstRowAsync(r => ContactRow.Read(r), cancellationToken);
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
