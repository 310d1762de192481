using System.Text.Json.Serialization;

namespace Chekt.PartnerApi.Devices;

/// <summary>A device (camera or bridge) at a site (spec §6).</summary>
public sealed record DeviceResponse(
    long DeviceId,
    string ExternalDeviceId,
    string DeviceType,
    string ZoneNumber,
    string? AdditionalZoneNumbers,
    string? Name,
    string? Mac,
    string? Manufacturer,
    string? Model,
    string? SerialNumber,
    string CreatedAt);

public sealed record CreateDeviceRequest(
    string? ExternalDeviceId,
    string? DeviceType,
    string? ZoneNumber,
    string? AdditionalZoneNumbers,
    string? Name,
    string? Mac,
    string? Manufacturer,
    string? Model,
    string? SerialNumber);

/// <summary>A partial update: every field of create except <c>external_device_id</c>.</summary>
public sealed record UpdateDeviceRequest(
    string? DeviceType,
    string? ZoneNumber,
    string? AdditionalZoneNumbers,
    string? Name,
    string? Mac,
    string? Manufacturer,
    string? Model,
    string? SerialNumber);

/// <summary>The answer to a bulk create: one result per item, in request order.</summary>
public sealed record BulkCreateDevicesResponse(int SuccessCount, int FailureCount, IReadOnlyList<BulkDeviceResult> Results);

public sealed record BulkDeviceResult(
    bool IsSuccessful,
    string? ExternalDeviceId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DeviceResponse? Device,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BulkDeviceError? Error);

/// <summary>Why one item of a bulk create failed, with the same code and field as a single request would have.</summary>
public sealed record BulkDeviceError(string Code, string Message, string? Field);

internal sealed class DeviceRow
{
    public long Id { get; init; }

    public string ExternalDeviceId { get; init; } = "";

    public string DeviceType { get; init; } = "";

    public string ZoneNumber { get; init; } = "";

    public string? AdditionalZoneNumbers { get; init; }

    public string? Name { get; init; }

    public string? Mac { get; init; }

    public string? Manufacturer { get; init; }

    public string? Model { get; init; }

    public string? SerialNumber { get; init; }

    public long Version { get; init; }

    public long CreatedAt { get; init; }

    public DeviceResponse AsDto() => new(
        Id, ExternalDeviceId, DeviceType, ZoneNumber, AdditionalZoneNumbers, Name, Mac, Manufacturer, Model, SerialNumber, Http.Timestamps.Format(CreatedAt));
}
