using System.Data.Common;
using System.Text.Json;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Chekt.PartnerApi.Devices;

/// <summary>The Devices API (spec §6) under <c>/dealers/{dealerId}/sites/{siteId}/devices</c>; create is bulk.</summary>
public static class DeviceEndpoints
{
    public const int MaxBulkItems = 500;

    private const string SelectDevices = "SELECT " + DeviceRow.Columns + " FROM devices";


    public static RouteGroupBuilder MapDeviceEndpoints(this RouteGroupBuilder api)
    {
        var site = api.MapDealerScoped().MapSiteScoped().WithTags("Devices");
        site.MapPost("/devices", CreateAsync).RequireScope(Scopes.CreateDevices).WithName("CreateDevices")
            .WithSummary("Create devices (bulk)")
            .WithDescription(
                "Creates up to 500 devices in one request. Each item succeeds or fails on its own: the answer is 201 whenever the "
                + "request itself is valid, with one result per item in request order; a refused item (invalid, or an "
                + "`external_device_id` that exists on the site or repeats in the request) has an `error` with the code and field "
                + "a single request would have had. The 64 KiB body limit applies too: 500 devices fit only with short items "
                + "(about 130 bytes each); send larger batches in several requests.")
            .AcceptsJsonBody<IReadOnlyList<CreateDeviceRequest>>(minItems: 1, maxItems: MaxBulkItems)
            .ProducesError(StatusCodes.Status400BadRequest, "`invalid_type`, `validation_failed`: the body is not a JSON array, or has no items or more than 500.");
        site.MapGet("/devices", ListAsync).RequireScope(Scopes.ReadDevices).WithMetadata(new AllowedQueryParameters("limit", "after")).WithName("ListDevices")
            .WithSummary("List a site's devices");
        site.MapGet("/devices/{deviceId}", GetAsync).RequireScope(Scopes.ReadDevices).WithName("GetDevice")
            .WithSummary("Get a device")
            .WithOptimisticConcurrency();
        site.MapPut("/devices/{deviceId}", UpdateAsync).RequireScope(Scopes.UpdateDevices).WithName("UpdateDevice")
            .WithSummary("Update a device")
            .WithDescription("Changes only the fields present in the body; `null` clears an optional field; `device_type` and `zone_number` cannot be cleared.")
            .AcceptsJsonBody<UpdateDeviceRequest>()
            .WithOptimisticConcurrency();
        site.MapDelete("/devices/{deviceId}", DeleteAsync).RequireScope(Scopes.DeleteDevices).WithName("DeleteDevice")
            .WithSummary("Delete a device")
            .WithOptimisticConcurrency();
        return api;
    }

    /// <summary>Bulk create: each item succeeds or fails on its own; results come back in request order.</summary>
    private static async Task<Results<JsonCreated<BulkCreateDevicesResponse>, ApiError>> CreateAsync(
        HttpContext context, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await JsonBody.ReadDocumentAsync(context.Request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var root = document!.RootElement;
        if (root.ValueKind != JsonValueKind.Array)
        {
            return ApiError.BadRequest(ErrorCodes.InvalidType, "The request body must be a JSON array of devices.");
        }

        var count = root.GetArrayLength();
        if (count is 0 or > MaxBulkItems)
        {
            return ApiError.BadRequest(ErrorCodes.ValidationFailed, $"Send 1 to {MaxBulkItems} devices per request (got {count}).");
        }

        var site = context.GetSiteAccess();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var results = new List<BulkDeviceResult>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = await db.OpenAsync(cancellationToken);
        foreach (var item in root.EnumerateArray())
        {
            // Echoed in the item's result, so only when it is text that can be echoed (not an unpaired surrogate).
            var externalId = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("external_device_id", out var raw)
                && raw.ValueKind == JsonValueKind.String && JsonBody.IsStorableText(raw)
                ? raw.GetString()
                : null;
            if (item.ValueKind != JsonValueKind.Object)
            {
                results.Add(Failed(null, ApiError.BadRequest(ErrorCodes.InvalidType, "Each device must be a JSON object.")));
                continue;
            }

            var bound = JsonBody.Bind(item, ApiJsonContext.Default.CreateDeviceRequest, "");
            var request = bound.Body?.Value;
            var problem = bound.Error ?? Validate(request!);
            if (problem is null && !seen.Add(request!.ExternalDeviceId!))
            {
                problem = Duplicate(request.ExternalDeviceId!, "appears more than once in this request");
            }

            if (problem is not null)
            {
                results.Add(Failed(externalId, problem));
                continue;
            }

            try
            {
                var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    """
                    INSERT INTO devices (site_id, external_device_id, device_type, zone_number, additional_zone_numbers, name, mac, manufacturer, model, serial_number, created_at, updated_at)
                    VALUES (@siteId, @ExternalDeviceId, @DeviceType, @ZoneNumber, @additional, @Name, @mac, @Manufacturer, @Model, @SerialNumber, @now, @now)
                    RETURNING id
                    """,
                    new
                    {
                        siteId = site.SiteId, request!.ExternalDeviceId, request.DeviceType, request.ZoneNumber,
                        additional = Normalized(request.AdditionalZoneNumbers, DeviceRules.NormalizeAdditionalZones),
                        request.Name, mac = Normalized(request.Mac, DeviceRules.NormalizeMac), request.Manufacturer, request.Model, request.SerialNumber, now,
                    },
                    cancellationToken: cancellationToken));
                var device = await ReadAsync(connection, site.SiteId, id, cancellationToken);
                results.Add(device is null
                    ? Failed(externalId, SiteGone(site.SiteId))
                    : new BulkDeviceResult(true, request.ExternalDeviceId, device.AsDto(), null));
            }
            catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
            {
                results.Add(Failed(externalId, Duplicate(request!.ExternalDeviceId!, "already exists on this site")));
            }
            catch (DbException exception) when (DbErrors.IsForeignKeyViolation(exception))
            {
                results.Add(Failed(externalId, SiteGone(site.SiteId))); // the site was deleted during the request
            }
        }

        var succeeded = results.Count(r => r.IsSuccessful);
        var dealer = context.GetDealerAccess();
        return JsonAnswers.Created(
            $"{context.Request.PathBase}/partner/v1/dealers/{dealer.DealerId}/sites/{site.SiteId}/devices",
            new BulkCreateDevicesResponse(succeeded, results.Count - succeeded, results));
    }

    private static Task<Results<JsonOk<IReadOnlyList<DeviceResponse>>, ApiError>> ListAsync(HttpContext context, Db db)
    {
        var siteId = context.GetSiteAccess().SiteId;
        return Page.ListAsync<DeviceRow, DeviceResponse>(context, db,
            SelectDevices + " WHERE site_id = @siteId AND id > @after ORDER BY id",
            new ListFilter("siteId", siteId), DeviceRow.Read, r => r.Id, r => r.AsDto());
    }

    private static async Task<Results<JsonOk<DeviceResponse>, ApiError>> GetAsync(HttpContext context, string deviceId, Db db, CancellationToken cancellationToken)
    {
        if (!PartnerApiAuthorization.TryParseId(deviceId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("deviceId");
        }

        await using var connection = await db.OpenAsync(cancellationToken);
        var device = await ReadAsync(connection, context.GetSiteAccess().SiteId, id, cancellationToken);
        if (device is null)
        {
            return DeviceNotFound(id);
        }

        ETags.Set(context, device.Version);
        return JsonAnswers.Ok(device.AsDto());
    }

    private static async Task<Results<JsonOk<DeviceResponse>, ApiError>> UpdateAsync(HttpContext context, string deviceId, Db db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!PartnerApiAuthorization.TryParseId(deviceId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("deviceId");
        }

        var read = await JsonBody.ReadObjectAsync(context.Request, ApiJsonContext.Default.UpdateDeviceRequest, cancellationToken);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var (body, request) = (read.Body!, read.Body!.Value);
        var validator = new BodyValidator();
        validator.Update(body, "device_type", request.DeviceType, FieldRules.TextMaxLength, required: true, format: DeviceTypeProblem);
        validator.Update(body, "zone_number", request.ZoneNumber, FieldRules.TextMaxLength, required: true, format: ZoneProblem);
        validator.Update(body, "additional_zone_numbers", request.AdditionalZoneNumbers, FieldRules.TextMaxLength, format: AdditionalZonesProblem);
        validator.Update(body, "name", request.Name, FieldRules.NameMaxLength);
        validator.Update(body, "mac", request.Mac, FieldRules.TextMaxLength, format: MacProblem);
        validator.Update(body, "manufacturer", request.Manufacturer, FieldRules.TextMaxLength);
        validator.Update(body, "model", request.Model, FieldRules.TextMaxLength);
        validator.Update(body, "serial_number", request.SerialNumber, FieldRules.TextMaxLength);
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
        var columns = new[] { "device_type", "zone_number", "additional_zone_numbers", "name", "mac", "manufacturer", "model", "serial_number" }.Where(body.Has);
        await using var connection = await db.OpenAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE devices SET {PartialUpdate.SetClause(columns)} WHERE id = @id AND site_id = @siteId{ifMatch.Condition}",
            new
            {
                id, siteId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions, now = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                device_type = request.DeviceType, zone_number = request.ZoneNumber,
                additional_zone_numbers = Normalized(request.AdditionalZoneNumbers, DeviceRules.NormalizeAdditionalZones),
                name = request.Name, mac = Normalized(request.Mac, DeviceRules.NormalizeMac),
                manufacturer = request.Manufacturer, model = request.Model, serial_number = request.SerialNumber,
            },
            cancellationToken: cancellationToken));
        var device = await ReadAsync(connection, siteId, id, cancellationToken);
        if (device is null)
        {
            return DeviceNotFound(id);
        }

        if (updated == 0)
        {
            return ETags.PreconditionFailed();
        }

        ETags.Set(context, device.Version);
        return JsonAnswers.Ok(device.AsDto());
    }

    private static async Task<Results<NoContent, ApiError>> DeleteAsync(HttpContext context, string deviceId, Db db, CancellationToken cancellationToken)
    {
        if (!PartnerApiAuthorization.TryParseId(deviceId, out var id))
        {
            return PartnerApiAuthorization.InvalidPathId("deviceId");
        }

        var (ifMatch, ifMatchError) = ETags.ReadIfMatch(context);
        if (ifMatchError is not null)
        {
            return ifMatchError;
        }

        var siteId = context.GetSiteAccess().SiteId;
        await using var connection = await db.OpenAsync(cancellationToken);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM devices WHERE id = @id AND site_id = @siteId" + ifMatch.Condition,
            new { id, siteId, expectedVersion = ifMatch.Version, expectedVersions = ifMatch.Versions }, cancellationToken: cancellationToken));
        if (deleted == 0)
        {
            return await ReadAsync(connection, siteId, id, cancellationToken) is null ? DeviceNotFound(id) : ETags.PreconditionFailed();
        }

        return TypedResults.NoContent();
    }

    private static ApiError? Validate(CreateDeviceRequest request)
    {
        var validator = new BodyValidator();
        validator.Required("external_device_id", request.ExternalDeviceId, FieldRules.ExternalIdMaxLength);
        validator.Required("device_type", request.DeviceType, FieldRules.TextMaxLength, DeviceTypeProblem);
        validator.Required("zone_number", request.ZoneNumber, FieldRules.TextMaxLength, ZoneProblem);
        validator.Optional("additional_zone_numbers", request.AdditionalZoneNumbers, FieldRules.TextMaxLength, AdditionalZonesProblem);
        validator.Optional("name", request.Name, FieldRules.NameMaxLength);
        validator.Optional("mac", request.Mac, FieldRules.TextMaxLength, MacProblem);
        validator.Optional("manufacturer", request.Manufacturer, FieldRules.TextMaxLength);
        validator.Optional("model", request.Model, FieldRules.TextMaxLength);
        validator.Optional("serial_number", request.SerialNumber, FieldRules.TextMaxLength);
        return validator.Error;
    }

    private static string? DeviceTypeProblem(string value) => DeviceRules.DeviceTypes.Contains(value) ? null : "must be camera or bridge.";

    private static string? ZoneProblem(string value) => DeviceRules.IsZoneNumber(value) ? null : "must be a string of 1 to 4 digits, such as \"001\".";

    private static string? AdditionalZonesProblem(string value) =>
        DeviceRules.NormalizeAdditionalZones(value) is null ? "must be a comma-separated list of zone numbers of 1 to 4 digits, such as \"002,003\"." : null;

    private static string? MacProblem(string value) =>
        DeviceRules.NormalizeMac(value) is null ? "must be six hex pairs separated by ':' or '-', or twelve hex digits." : null;

    private static string? Normalized(string? value, Func<string, string?> normalize) => value is null ? null : normalize(value);

    private static ApiError SiteGone(long siteId) => ApiError.NotFound("site_not_found", $"Site {siteId} does not exist.");

    private static ApiError Duplicate(string externalId, string why) =>
        ApiError.Conflict(ErrorCodes.Conflict, $"The external_device_id '{externalId}' {why}.", "external_device_id");

    private static BulkDeviceResult Failed(string? externalId, ApiError error) =>
        new(false, externalId, null, new BulkDeviceError(error.Code, error.Message, error.Field));

    private static Task<DeviceRow?> ReadAsync(DbConnection connection, long siteId, long deviceId, CancellationToken cancellationToken) =>
        connection.QueryFirstRowAsync(new CommandDefinition(
            SelectDevices + " WHERE id = @deviceId AND site_id = @siteId", new { deviceId, siteId }, cancellationToken: cancellationToken), DeviceRow.Read);

    private static ApiError DeviceNotFound(long id) => ApiError.NotFound("device_not_found", $"Device {id} does not exist.");
}
