using System.Data.Common;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Chekt.PartnerApi.Dealers;

/// <summary>The Dealers API (seed 000, spec §3).</summary>
public static class DealerEndpoints
{
    private const string SelectDealer = "SELECT " + DealerRow.Columns + " FROM dealers d WHERE d.id = @dealerId";

    public static RouteGroupBuilder MapDealerEndpoints(this RouteGroupBuilder api)
    {
        // Note: connect acts on the signed-in user's own dealer, so it has no {dealerId} and no dealer filter.
        api.MapPut("/dealers/connect", ConnectAsync).RequireDealerAdmin().AddEndpointFilter(PartnerApiAuthorization.SharedFilter<IdempotencyFilter>(api))
            .WithName("ConnectDealer").WithTags("Dealers")
            .WithSummary("Connect a dealer")
            .WithDescription(
                "Links the dealer of the signed-in dealer admin (the user of the authorization-code access token) to your partner "
                + "account under your `external_dealer_id`. Connecting again with the same id changes nothing; with a new id, the new "
                + "one replaces the old. The dealer's registered `company_name` stays as CHeKT has it; the submitted name is kept with "
                + "the connection. Needs a dealer **admin**'s user token; no API scope.")
            .AcceptsJsonBody<ConnectDealerRequest>()
            .ProducesError(StatusCodes.Status409Conflict, "`conflict`: the `external_dealer_id` is already connected to another dealer of your partner account.");

        var dealer = api.MapDealerScoped().WithTags("Dealers");
        dealer.MapGet("", Get).RequireScope(Scopes.ReadDealer).WithMetadata(new ReadsDealerRow()).WithName("GetDealer")
            .WithSummary("Get a dealer")
            .WithOptimisticConcurrency();
        dealer.MapPut("", UpdateAsync).RequireScope(Scopes.UpdateDealer).WithName("UpdateDealer")
            .WithSummary("Update a dealer")
            .WithDescription("Changes only the fields present in the body; `null` clears an optional field; `company_name` cannot be cleared.")
            .AcceptsJsonBody<UpdateDealerRequest>()
            .WithOptimisticConcurrency();
        dealer.MapPut("/disconnect", DisconnectAsync).RequireDealerAdmin().WithName("DisconnectDealer")
            .WithSummary("Disconnect a dealer")
            .WithDescription(
                "Removes the link between your system and the dealer: the answer has `external_dealer_id: null` and your partner "
                + "account loses access until the dealer is connected again. No data is deleted; after reconnecting you find the "
                + "sites and contacts as they were. The path's dealer must be the signed-in user's. Needs a dealer **admin**'s user "
                + "token; no API scope.");
        return api;
    }

    private static async Task<Results<JsonOk<DealerResponse>, ApiError>> ConnectAsync(
        HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.ConnectDealerRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var request = read.Body!.Value;
        var validator = new BodyValidator();
        validator.Required("external_dealer_id", request.ExternalDealerId, FieldRules.ExternalIdMaxLength);
        validator.Required("company_name", request.CompanyName, FieldRules.NameMaxLength);
        if (validator.Error is { } invalid)
        {
            return invalid;
        }

        var caller = context.GetCaller();
        var dealerId = caller.User!.DealerId;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var parameters = new { partnerId = caller.PartnerId, dealerId, external = request.ExternalDealerId, name = request.CompanyName, now };
        await using var connection = await db.OpenAsync(cancellationToken);
        try
        {
            // Note: reconnecting (or connecting again with a new external id) updates the one
            // connection row of this partner and dealer; the dealer's data stays where it was.
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE dealer_connections
                SET external_dealer_id = @external, company_name = @name,
                    connected_at = CASE WHEN disconnected_at IS NULL THEN connected_at ELSE @now END, disconnected_at = NULL
                WHERE partner_id = @partnerId AND dealer_id = @dealerId
                """, parameters, cancellationToken: cancellationToken));
            if (updated == 0)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO dealer_connections (partner_id, dealer_id, external_dealer_id, company_name, connected_at)
                    VALUES (@partnerId, @dealerId, @external, @name, @now)
                    ON CONFLICT (partner_id, dealer_id) DO UPDATE
                    SET external_dealer_id = excluded.external_dealer_id, company_name = excluded.company_name, disconnected_at = NULL
                    """, parameters, cancellationToken: cancellationToken));
            }
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return ApiError.Conflict(ErrorCodes.Conflict,
                $"The external_dealer_id '{request.ExternalDealerId}' is already connected to another dealer of your partner account.",
                "external_dealer_id");
        }

        var dealer = await connection.QueryFirstRowAsync(new CommandDefinition(SelectDealer, new { dealerId }, cancellationToken: cancellationToken), r => DealerRow.Read(r))
            ?? throw new InvalidOperationException("The dealer row was not found.");
        return JsonAnswers.Ok(dealer.AsDto(request.ExternalDealerId));
    }

    private static Results<JsonOk<DealerResponse>, ApiError> Get(HttpContext context)
    {
        // The access check read the dealer's row in its own query (ReadsDealerRow).
        var access = context.GetDealerAccess();
        var dealer = access.Row ?? throw new InvalidOperationException("GET dealer must be marked ReadsDealerRow.");
        ETags.Set(context, dealer.Version);
        return JsonAnswers.Ok(dealer.AsDto(access.ExternalDealerId));
    }

    private static async Task<Results<JsonOk<DealerResponse>, ApiError>> UpdateAsync(
        HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.UpdateDealerRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Body!;
        var request = body.Value;
        var validator = new BodyValidator();
        validator.Update(body, "company_name", request.CompanyName, FieldRules.NameMaxLength, required: true);
        validator.Update(body, "company_address1", request.CompanyAddress1, FieldRules.TextMaxLength);
        validator.Update(body, "company_address2", request.CompanyAddress2, FieldRules.TextMaxLength);
        validator.Update(body, "company_email", request.CompanyEmail, FieldRules.EmailMaxLength, format: BodyValidator.Email);
        validator.Update(body, "company_phone_number", request.CompanyPhoneNumber, FieldRules.PhoneMaxLength, format: BodyValidator.Phone);
        if (validator.Error is { } invalid)
        {
            return invalid;
        }

        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var access = context.GetDealerAccess();
        var columns = new[] { "company_name", "company_address1", "company_address2", "company_email", "company_phone_number" }.Where(body.Has);
        await using var connection = await db.OpenAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE dealers SET {PartialUpdate.SetClause(columns)} WHERE id = @dealerId{ifMatch.Condition}",
            new
            {
                dealerId = access.DealerId,
                expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions,
                company_name = request.CompanyName,
                company_address1 = request.CompanyAddress1,
                company_address2 = request.CompanyAddress2,
                company_email = request.CompanyEmail,
                company_phone_number = request.CompanyPhoneNumber,
                now = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            },
            cancellationToken: cancellationToken));
        if (updated == 0)
        {
            return ETags.PreconditionFailed();
        }

        var dealer = await connection.QueryFirstRowAsync(new CommandDefinition(SelectDealer, new { dealerId = access.DealerId }, cancellationToken: cancellationToken), r => DealerRow.Read(r))
            ?? throw new InvalidOperationException("The dealer row was not found.");
        ETags.Set(context, dealer.Version);
        return JsonAnswers.Ok(dealer.AsDto(access.ExternalDealerId));
    }

    private static async Task<Results<JsonOk<DealerResponse>, ApiError>> DisconnectAsync(
        HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var access = context.GetDealerAccess();
        var caller = context.GetCaller();
        await using var connection = await db.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE dealer_connections SET disconnected_at = @now WHERE partner_id = @partnerId AND dealer_id = @dealerId AND disconnected_at IS NULL",
            new { partnerId = caller.PartnerId, dealerId = access.DealerId, now = clock.GetUtcNow().ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
        var dealer = await connection.QueryFirstRowAsync(new CommandDefinition(SelectDealer, new { dealerId = access.DealerId }, cancellationToken: cancellationToken), r => DealerRow.Read(r))
            ?? throw new InvalidOperationException("The dealer row was not found.");
        return JsonAnswers.Ok(dealer.AsDto(null));
    }
}
