using System.Data.Common;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Chekt.PartnerApi.MonitoringStations;

/// <summary>The Monitoring stations API (spec §6) under <c>/dealers/{dealerId}/monitoring-stations</c>.</summary>
public static class MonitoringStationEndpoints
{
    private const string SelectStations = "SELECT " + MonitoringStationRow.Columns + " FROM monitoring_stations";


    public static RouteGroupBuilder MapMonitoringStationEndpoints(this RouteGroupBuilder api)
    {
        var dealer = api.MapDealerScoped().WithTags("MonitoringStations");
        dealer.MapPost("/monitoring-stations", CreateAsync).RequireScope(Scopes.CreateMonitoringStations).WithName("CreateMonitoringStation")
            .WithSummary("Create a monitoring station")
            .AcceptsJsonBody<CreateMonitoringStationRequest>()
            .WithOptimisticConcurrency()
            .ProducesError(StatusCodes.Status409Conflict, "`conflict`: a station with this `external_monitoring_station_id` already exists for the dealer.");
        dealer.MapGet("/monitoring-stations", ListAsync).RequireScope(Scopes.ReadMonitoringStations)
            .WithMetadata(new AllowedQueryParameters("limit", "after")).WithName("ListMonitoringStations")
            .WithSummary("List monitoring stations");
        dealer.MapGet("/monitoring-stations/{monitoringStationId}", GetAsync).RequireScope(Scopes.ReadMonitoringStations).WithName("GetMonitoringStation")
            .WithSummary("Get a monitoring station")
            .WithOptimisticConcurrency();
        dealer.MapPut("/monitoring-stations/{monitoringStationId}", UpdateAsync).RequireScope(Scopes.UpdateMonitoringStations).WithName("UpdateMonitoringStation")
            .WithSummary("Update a monitoring station")
            .WithDescription(
                "Changes only the fields present in the body; `null` clears an optional field; `external_monitoring_station_id` "
                + "and `name` cannot be cleared. Sites of the station show its new external id.")
            .AcceptsJsonBody<UpdateMonitoringStationRequest>()
            .WithOptimisticConcurrency()
            .ProducesError(StatusCodes.Status409Conflict, "`conflict`: another station of the dealer has this `external_monitoring_station_id`.");
        dealer.MapDelete("/monitoring-stations/{monitoringStationId}", DeleteAsync).RequireScope(Scopes.DeleteMonitoringStations).WithName("DeleteMonitoringStation")
            .WithSummary("Delete a monitoring station")
            .WithDescription("A station that sites still refer to cannot be deleted: move or delete those sites first.")
            .WithOptimisticConcurrency()
            .ProducesError(StatusCodes.Status409Conflict, "`monitoring_station_in_use`: sites still refer to the station; `details` lists them.");
        return api;
    }

    private static async Task<Results<JsonCreated<MonitoringStationResponse>, ApiError>> CreateAsync(HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.CreateMonitoringStationRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var request = read.Body!.Value;
        var validator = new BodyValidator();
        validator.Required("external_monitoring_station_id", request.ExternalMonitoringStationId, FieldRules.ExternalIdMaxLength);
        validator.Required("name", request.Name, FieldRules.NameMaxLength);
        validator.Optional("prefix", request.Prefix, FieldRules.TextMaxLength);
        validator.Optional("linecard", request.Linecard, FieldRules.TextMaxLength);
        if (validator.Error is { } invalid)
        {
            return invalid;
        }

        var dealer = context.GetDealerAccess();
        await using var connection = await db.OpenAsync(cancellationToken);
        long stationId;
        try
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            stationId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO monitoring_stations (dealer_id, external_monitoring_station_id, name, prefix, linecard, created_at, updated_at)
                VALUES (@dealerId, @ExternalMonitoringStationId, @Name, @Prefix, @Linecard, @now, @now) RETURNING id
                """,
                new { dealerId = dealer.DealerId, request.ExternalMonitoringStationId, request.Name, request.Prefix, request.Linecard, now },
                cancellationToken: cancellationToken));
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return DuplicateExternalId(request.ExternalMonitoringStationId!);
        }

        var station = await ReadAsync(connection, dealer.DealerId, stationId, cancellationToken);
        if (station is null)
        {
            return StationNotFound(stationId); // deleted by a concurrent request
        }

        ETags.Set(context, station.Version);
        return JsonAnswers.Created($"{context.Request.PathBase}/partner/v1/dealers/{dealer.DealerId}/monitoring-stations/{stationId}", station.AsDto());
    }

    private static Task<Results<JsonOk<IReadOnlyList<MonitoringStationResponse>>, ApiError>> ListAsync(HttpContext context, Db db)
    {
        var dealerId = context.GetDealerAccess().DealerId;
        return Page.ListAsync<MonitoringStationRow, MonitoringStationResponse>(context, db,
            SelectStations + " WHERE dealer_id = @dealerId AND id > @after ORDER BY id",
            new ListFilter("dealerId", dealerId), MonitoringStationRow.Read, r => r.Id, r => r.AsDto());
    }

    private static async Task<Results<JsonOk<MonitoringStationResponse>, ApiError>> GetAsync(HttpContext context, string monitoringStationId, Db db, CancellationToken cancellationToken)
    {
        if (!PartnerApiAuthorization.TryParseId(monitoringStationId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("monitoringStationId");
        }

        await using var connection = await db.OpenAsync(cancellationToken);
        var station = await ReadAsync(connection, context.GetDealerAccess().DealerId, id, cancellationToken);
        if (station is null)
        {
            return StationNotFound(id);
        }

        ETags.Set(context, station.Version);
        return JsonAnswers.Ok(station.AsDto());
    }

    private static async Task<Results<JsonOk<MonitoringStationResponse>, ApiError>> UpdateAsync(
        HttpContext context, string monitoringStationId, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!PartnerApiAuthorization.TryParseId(monitoringStationId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("monitoringStationId");
        }

        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.UpdateMonitoringStationRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var (body, request) = (read.Body!, read.Body!.Value);
        var validator = new BodyValidator();
        validator.Update(body, "external_monitoring_station_id", request.ExternalMonitoringStationId, FieldRules.ExternalIdMaxLength, required: true);
        validator.Update(body, "name", request.Name, FieldRules.NameMaxLength, required: true);
        validator.Update(body, "prefix", request.Prefix, FieldRules.TextMaxLength);
        validator.Update(body, "linecard", request.Linecard, FieldRules.TextMaxLength);
        if (validator.Error is { } invalid)
        {
            return invalid;
        }

        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var dealerId = context.GetDealerAccess().DealerId;
        await using var connection = await db.OpenAsync(cancellationToken);
        var columns = new[] { "external_monitoring_station_id", "name", "prefix", "linecard" }.Where(body.Has);
        int updated;
        try
        {
            updated = await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE monitoring_stations SET {PartialUpdate.SetClause(columns)} WHERE id = @id AND dealer_id = @dealerId{ifMatch.Condition}",
                new
                {
                    id, dealerId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions, now = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                    external_monitoring_station_id = request.ExternalMonitoringStationId, name = request.Name, prefix = request.Prefix, linecard = request.Linecard,
                },
                cancellationToken: cancellationToken));
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return DuplicateExternalId(request.ExternalMonitoringStationId!);
        }

        var station = await ReadAsync(connection, dealerId, id, cancellationToken);
        if (station is null)
        {
            return StationNotFound(id);
        }

        if (updated == 0)
        {
            return ETags.PreconditionFailed();
        }

        ETags.Set(context, station.Version);
        return JsonAnswers.Ok(station.AsDto());
    }

    private static async Task<Results<NoContent, ApiError>> DeleteAsync(HttpContext context, string monitoringStationId, Db db, CancellationToken cancellationToken)
    {
        if (!PartnerApiAuthorization.TryParseId(monitoringStationId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("monitoringStationId");
        }

        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var dealerId = context.GetDealerAccess().DealerId;
        await using var connection = await db.OpenAsync(cancellationToken);
        try
        {
            var deleted = await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM monitoring_stations WHERE id = @id AND dealer_id = @dealerId" + ifMatch.Condition,
                new { id, dealerId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions }, cancellationToken: cancellationToken));
            if (deleted == 0)
            {
                return await ReadAsync(connection, dealerId, id, cancellationToken) is null ? StationNotFound(id) : ETags.PreconditionFailed();
            }
        }
        catch (DbException exception) when (DbErrors.IsForeignKeyViolation(exception))
        {
            // Note: the database refuses the delete (a foreign key), so a site created concurrently cannot be orphaned.
            var sites = (await connection.QueryAsync<(long Id, string ExternalSiteId)>(new CommandDefinition(
                "SELECT id, external_site_id FROM sites WHERE monitoring_station_id = @id ORDER BY id", new { id }, cancellationToken: cancellationToken))).ToList();
            return new ApiError(StatusCodes.Status409Conflict, "monitoring_station_in_use",
                $"The monitoring station is used by {sites.Count} site(s): {string.Join(", ", sites.Select(s => s.Id))}. Move or delete them first.",
                null, [.. sites.Select(s => new ErrorDetail("site_id", $"Site {s.Id} ({s.ExternalSiteId}) uses this monitoring station."))]);
        }

        return TypedResults.NoContent();
    }

    private static Task<MonitoringStationRow?> ReadAsync(DbConnection connection, long dealerId, long stationId, CancellationToken cancellationToken) =>
        connection.QueryFirstRowAsync(new CommandDefinition(
            SelectStations + " WHERE id = @stationId AND dealer_id = @dealerId", new { stationId, dealerId }, cancellationToken: cancellationToken), MonitoringStationRow.Read);

    private static ApiError DuplicateExternalId(string externalId) =>
        ApiError.Conflict(ErrorCodes.Conflict, $"A monitoring station with external_monitoring_station_id '{externalId}' already exists for this dealer.",
            "external_monitoring_station_id");

    private static ApiError StationNotFound(long id) =>
        ApiError.NotFound("monitoring_station_not_found", $"Monitoring station {id} does not exist.");
}
