using System.Data.Common;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Chekt.PartnerApi.Sites;

/// <summary>The Sites API (spec §4): a dealer's sites and their arming settings.</summary>
public static class SiteEndpoints
{
    private const string SelectSites = "SELECT " + SiteRow.Columns + " FROM sites s LEFT JOIN monitoring_stations m ON m.id = s.monitoring_station_id";

    public static RouteGroupBuilder MapSiteEndpoints(this RouteGroupBuilder api)
    {
        var dealer = api.MapDealerScoped().WithTags("Sites");
        dealer.MapPost("/sites", CreateAsync).RequireScope(Scopes.CreateSites).WithName("CreateSite")
            .WithSummary("Create a site")
            .WithDescription("New sites are not activated (`is_activated` 0) and start with arming `security_type` 1.")
            .AcceptsJsonBody<CreateSiteRequest>()
            .WithOptimisticConcurrency()
            .ProducesError(StatusCodes.Status403Forbidden, "`forbidden`: the token is narrowed by the partner claim to one site.")
            .ProducesError(StatusCodes.Status409Conflict, "`conflict`: a site with this `external_site_id` already exists for the dealer.");
        dealer.MapGet("/sites", ListAsync).RequireScope(Scopes.ReadSites).WithMetadata(new AllowedQueryParameters("limit", "after")).WithName("ListSites")
            .WithSummary("List sites")
            .WithDescription("A token narrowed by the partner claim to one site lists that site only.");

        var site = dealer.MapSiteScoped();
        site.MapGet("", Get).RequireScope(Scopes.ReadSites).WithMetadata(new ReadsSiteRow()).WithName("GetSite")
            .WithSummary("Get a site")
            .WithOptimisticConcurrency();
        site.MapPut("", UpdateAsync).RequireScope(Scopes.UpdateSites).WithName("UpdateSite")
            .WithSummary("Update a site")
            .WithDescription("Changes only the fields present in the body; `null` clears an optional field; `name` and `timezone` cannot be cleared.")
            .AcceptsJsonBody<UpdateSiteRequest>()
            .WithOptimisticConcurrency();
        site.MapDelete("", DeleteAsync).RequireScope(Scopes.DeleteSites).WithName("DeleteSite")
            .WithSummary("Delete a site")
            .WithDescription("Deletes the site with its contacts and devices.")
            .WithOptimisticConcurrency();
        site.MapGet("/arming-settings", GetArmingSettingsAsync).RequireScope(Scopes.ReadSites).WithName("GetArmingSettings")
            .WithSummary("Get a site's arming settings")
            .WithOptimisticConcurrency();
        site.MapPatch("/arming-settings", UpdateArmingSettingsAsync).RequireScope(Scopes.UpdateSites).WithName("UpdateArmingSettings")
            .WithSummary("Update a site's arming settings")
            .AcceptsJsonBody<UpdateArmingSettingsRequest>()
            .WithOptimisticConcurrency();
        return api;
    }

    private static async Task<Results<JsonCreated<SiteResponse>, ApiError>> CreateAsync(HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.CreateSiteRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var request = read.Body!.Value;
        var validator = new BodyValidator();
        validator.Required("external_site_id", request.ExternalSiteId, FieldRules.ExternalIdMaxLength);
        validator.Required("name", request.Name, FieldRules.NameMaxLength);
        validator.Required("timezone", request.Timezone, FieldRules.TextMaxLength, BodyValidator.TimeZone);

        validator.Optional("account_number", request.AccountNumber, FieldRules.TextMaxLength);
        validator.Optional("address1", request.Address1, FieldRules.TextMaxLength);
        validator.Optional("address2", request.Address2, FieldRules.TextMaxLength);
        if (request.MonitoringStationId is <= 0)
        {
            validator.Add("monitoring_station_id", "monitoring_station_id must be a positive integer.");
        }

        if (validator.Error is { } invalid)
        {
            return invalid;
        }

        var dealer = context.GetDealerAccess();
        if (context.GetCaller().Narrowing?.SiteId is not null)
        {
            return ApiError.Forbidden(ErrorCodes.Forbidden, "The access token is restricted to one site.");
        }

        await using var connection = await db.OpenAsync(cancellationToken);
        if (request.MonitoringStationId is { } stationId && !await StationOfDealerAsync(connection, dealer.DealerId, stationId, cancellationToken))
        {
            return UnknownStation();
        }

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        long siteId;
        try
        {
            siteId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO sites (dealer_id, external_site_id, name, monitoring_station_id, account_number, address1, address2, timezone, created_at, updated_at)
                VALUES (@dealerId, @ExternalSiteId, @Name, @MonitoringStationId, @AccountNumber, @Address1, @Address2, @Timezone, @now, @now)
                RETURNING id
                """,
                new
                {
                    dealerId = dealer.DealerId, request.ExternalSiteId, request.Name, request.MonitoringStationId, request.AccountNumber,
                    request.Address1, request.Address2, request.Timezone, now,
                },
                cancellationToken: cancellationToken));
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return ApiError.Conflict(ErrorCodes.Conflict, $"A site with external_site_id '{request.ExternalSiteId}' already exists for this dealer.", "external_site_id");
        }
        catch (DbException exception) when (DbErrors.IsForeignKeyViolation(exception))
        {
            return UnknownStation();
        }

        var site = await ReadAsync(connection, siteId, cancellationToken);
        if (site is null)
        {
            return ApiError.NotFound("site_not_found", $"Site {siteId} does not exist."); // deleted by a concurrent request
        }

        ETags.Set(context, site.Version);
        return JsonAnswers.Created($"{context.Request.PathBase}/partner/v1/dealers/{dealer.DealerId}/sites/{siteId}", site.AsDto());
    }

    private static Task<Results<JsonOk<IReadOnlyList<SiteResponse>>, ApiError>> ListAsync(HttpContext context, Db db)
    {
        var dealerId = context.GetDealerAccess().DealerId;
        var onlySite = context.GetCaller().Narrowing?.SiteId;
        return Page.ListAsync<SiteRow, SiteResponse>(context, db,
            SelectSites + " WHERE s.dealer_id = @dealerId AND s.id > @after" + (onlySite is null ? "" : " AND s.id = @onlyId") + " ORDER BY s.id",
            new ListFilter("dealerId", dealerId, onlySite), r => SiteRow.Read(r), r => r.Id, r => r.AsDto());
    }

    private static Results<JsonOk<SiteResponse>, ApiError> Get(HttpContext context)
    {
        // The access check read the site's row in its own query (ReadsSiteRow).
        var site = context.GetSiteAccess().Row ?? throw new InvalidOperationException("GET site must be marked ReadsSiteRow.");
        ETags.Set(context, site.Version);
        return JsonAnswers.Ok(site.AsDto());
    }

    private static async Task<Results<JsonOk<SiteResponse>, ApiError>> UpdateAsync(HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.UpdateSiteRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var (body, request) = (read.Body!, read.Body!.Value);
        var validator = new BodyValidator();
        validator.Update(body, "name", request.Name, FieldRules.NameMaxLength, required: true);
        validator.Update(body, "timezone", request.Timezone, FieldRules.TextMaxLength, required: true, format: BodyValidator.TimeZone);
        validator.Update(body, "account_number", request.AccountNumber, FieldRules.TextMaxLength);
        validator.Update(body, "address1", request.Address1, FieldRules.TextMaxLength);
        validator.Update(body, "address2", request.Address2, FieldRules.TextMaxLength);
        if (request.MonitoringStationId is <= 0)
        {
            validator.Add("monitoring_station_id", "monitoring_station_id must be a positive integer.");
        }

        if (validator.Error is { } invalid)
        {
            return invalid;
        }

        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var dealer = context.GetDealerAccess();
        var siteId = context.GetSiteAccess().SiteId;
        await using var connection = await db.OpenAsync(cancellationToken);
        if (request.MonitoringStationId is { } stationId && !await StationOfDealerAsync(connection, dealer.DealerId, stationId, cancellationToken))
        {
            return UnknownStation();
        }

        var columns = new[] { "name", "timezone", "monitoring_station_id", "account_number", "address1", "address2" }.Where(body.Has);
        try
        {
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE sites SET {PartialUpdate.SetClause(columns)} WHERE id = @siteId{ifMatch.Condition}",
                new
                {
                    siteId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions, now = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                    name = request.Name, timezone = request.Timezone, monitoring_station_id = request.MonitoringStationId,
                    account_number = request.AccountNumber, address1 = request.Address1, address2 = request.Address2,
                },
                cancellationToken: cancellationToken));
            if (updated == 0)
            {
                return await ReadAsync(connection, siteId, cancellationToken) is null ? SiteNotFound(context) : ETags.PreconditionFailed();
            }
        }
        catch (DbException exception) when (DbErrors.IsForeignKeyViolation(exception))
        {
            return UnknownStation();
        }

        var site = await ReadAsync(connection, siteId, cancellationToken);
        if (site is null)
        {
            return SiteNotFound(context);
        }

        ETags.Set(context, site.Version);
        return JsonAnswers.Ok(site.AsDto());
    }

    private static async Task<Results<NoContent, ApiError>> DeleteAsync(HttpContext context, Db db, CancellationToken cancellationToken)
    {
        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var siteId = context.GetSiteAccess().SiteId;
        await using var connection = await db.OpenAsync(cancellationToken);
        // Contacts and devices go with the site (ON DELETE CASCADE).
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM sites WHERE id = @siteId" + ifMatch.Condition,
            new { siteId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions }, cancellationToken: cancellationToken));
        if (deleted == 0)
        {
            return await ReadAsync(connection, siteId, cancellationToken) is null ? SiteNotFound(context) : ETags.PreconditionFailed();
        }

        return TypedResults.NoContent();
    }

    private static async Task<Results<JsonOk<ArmingSettingsResponse>, ApiError>> GetArmingSettingsAsync(HttpContext context, Db db, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        var site = await ReadAsync(connection, context.GetSiteAccess().SiteId, cancellationToken);
        if (site is null)
        {
            return SiteNotFound(context);
        }

        ETags.Set(context, site.Version);
        return JsonAnswers.Ok(site.AsArmingSettings());
    }

    private static async Task<Results<JsonOk<ArmingSettingsResponse>, ApiError>> UpdateArmingSettingsAsync(
        HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.UpdateArmingSettingsRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        if (read.Body!.Value.SecurityType is not (>= 1 and <= 4))
        {
            return ApiError.Validation("security_type", "security_type is required and must be 1, 2, 3 or 4.");
        }

        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var siteId = context.GetSiteAccess().SiteId;
        await using var connection = await db.OpenAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE sites SET {PartialUpdate.SetClause(["security_type"])} WHERE id = @siteId{ifMatch.Condition}",
            new { siteId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions, security_type = read.Body.Value.SecurityType, now = clock.GetUtcNow().ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
        if (updated == 0)
        {
            return await ReadAsync(connection, siteId, cancellationToken) is null ? SiteNotFound(context) : ETags.PreconditionFailed();
        }

        var site = await ReadAsync(connection, siteId, cancellationToken);
        if (site is null)
        {
            return SiteNotFound(context);
        }

        ETags.Set(context, site.Version);
        return JsonAnswers.Ok(site.AsArmingSettings());
    }

    private static Task<SiteRow?> ReadAsync(DbConnection connection, long siteId, CancellationToken cancellationToken) =>
        connection.QueryFirstRowAsync(new CommandDefinition(SelectSites + " WHERE s.id = @siteId", new { siteId }, cancellationToken: cancellationToken), r => SiteRow.Read(r));

    private static async Task<bool> StationOfDealerAsync(DbConnection connection, long dealerId, long stationId, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM monitoring_stations WHERE id = @stationId AND dealer_id = @dealerId",
            new { stationId, dealerId }, cancellationToken: cancellationToken)) is not null;

    private static ApiError UnknownStation() =>
        ApiError.Validation("monitoring_station_id", "monitoring_station_id is not a monitoring station of this dealer.");

    private static ApiError SiteNotFound(HttpContext context) =>
        ApiError.NotFound("site_not_found", $"Site {context.GetSiteAccess().SiteId} does not exist.");
}
