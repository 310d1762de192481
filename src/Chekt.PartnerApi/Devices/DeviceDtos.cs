using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Text.Json.Serialization;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Validation;

namespace Chekt.PartnerApi.Devices;

/// <summary>A device (camera or bridge) at a site.</summary>
/// <param name="DeviceId">CHeKT's id of the device.</param>
/// <param name="ExternalDeviceId">Your id for the device; unique per site.</param>
/// <param name="DeviceType"><c>camera</c> or <c>bridge</c>.</param>
/// <param name="ZoneNumber">The alarm zone, 1 to 4 digits such as <c>001</c>.</param>
/// <param name="AdditionalZoneNumbers">More zones, comma-separated without spaces or repeats, such as <c>002,003</c>.</param>
/// <param name="Name">The device's name.</param>
/// <param name="Mac">MAC address, normalised to <c>AA:BB:CC:DD:EE:FF</c>.</param>
/// <param name="Manufacturer">The device's manufacturer.</param>
/// <param name="Model">The device's model.</param>
/// <param name="SerialNumber">The device's serial number.</param>
/// <param name="CreatedAt">When the device was created (UTC, ISO 8601 with milliseconds).</param>
public sealed record DeviceResponse(
    long DeviceId,
    string ExternalDeviceId,
    [property: AllowedValues("camera", "bridge")] string DeviceType,
    string ZoneNumber,
    string? AdditionalZoneNumbers,
    string? Name,
    string? Mac,
    string? Manufacturer,
    string? Model,
    string? SerialNumber,
    string CreatedAt);

/// <summary>One device of a bulk create.</summary>
/// <param name="ExternalDeviceId">Your id for the device; unique per site and within the request.</param>
/// <param name="DeviceType"><c>camera</c> or <c>bridge</c>.</param>
/// <param name="ZoneNumber">The alarm zone: a string of 1 to 4 digits, such as <c>001</c>.</param>
/// <param name="AdditionalZoneNumbers">More zones, comma-separated, such as <c>002,003</c> (spaces and repeats are dropped).</param>
/// <param name="Name">The device's name.</param>
/// <param name="Mac">Six hex pairs separated by <c>:</c> or <c>-</c>, or twelve hex digits; stored as <c>AA:BB:CC:DD:EE:FF</c>.</param>
/// <param name="Manufacturer">The device's manufacturer.</param>
/// <param name="Model">The device's model.</param>
/// <param name="SerialNumber">The device's serial number.</param>
public sealed record CreateDeviceRequest(
    [property: Required, MaxLength(FieldRules.ExternalIdMaxLength)] string? ExternalDeviceId,
    [property: Required, AllowedValues("camera", "bridge")] string? DeviceType,
    [property: Required, RegularExpression("^[0-9]{1,4}$")] string? ZoneNumber,
    [property: MaxLength(FieldRules.TextMaxLength)] string? AdditionalZoneNumbers,
    [property: MaxLength(FieldRules.NameMaxLength)] string? Name,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Mac,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Manufacturer,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Model,
    [property: MaxLength(FieldRules.TextMaxLength)] string? SerialNumber);

/// <summary>A partial update: every field of create except <c>external_device_id</c>; absent fields stay as they are, null clears an optional one.</summary>
/// <param name="DeviceType"><c>camera</c> or <c>bridge</c>; cannot be cleared.</param>
/// <param name="ZoneNumber">The alarm zone: a string of 1 to 4 digits, such as <c>001</c>; cannot be cleared.</param>
/// <param name="AdditionalZoneNumbers">More zones, comma-separated, such as <c>002,003</c> (spaces and repeats are dropped).</param>
/// <param name="Name">The device's name.</param>
/// <param name="Mac">Six hex pairs separated by <c>:</c> or <c>-</c>, or twelve hex digits; stored as <c>AA:BB:CC:DD:EE:FF</c>.</param>
/// <param name="Manufacturer">The device's manufacturer.</param>
/// <param name="Model">The device's model.</param>
/// <param name="SerialNumber">The device's serial number.</param>
public sealed record UpdateDeviceRequest(
    [property: NonNullable, AllowedValues("camera", "bridge")] string? DeviceType,
    [property: NonNullable, RegularExpression("^[0-9]{1,4}$")] string? ZoneNumber,
    [property: MaxLength(FieldRules.TextMaxLength)] string? AdditionalZoneNumbers,
    [property: MaxLength(FieldRules.NameMaxLength)] string? Name,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Mac,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Manufacturer,
    [property: MaxLength(FieldRules.TextMaxLength)] string? Model,
    [property: MaxLength(FieldRules.TextMaxLength)] string? SerialNumber);

/// <summary>The answer to a bulk create: one result per item, in request order.</summary>
/// <param name="SuccessCount">Items created.</param>
/// <param name="FailureCount">Items refused; the others were created all the same.</param>
/// <param name="Results">One result per item of the request, in its order.</param>
public sealed record BulkCreateDevicesResponse(int SuccessCount, int FailureCount, IReadOnlyList<BulkDeviceResult> Results);

/// <summary>The outcome of one item of a bulk create: <c>device</c> when it was created, else <c>error</c>.</summary>
/// <param name="IsSuccessful">Whether the device was created.</param>
/// <param name="ExternalDeviceId">The item's <c>external_device_id</c>; null when the item had none (or not a string).</param>
/// <param name="Device">The created device (only when successful).</param>
/// <param name="Error">Why the item was refused (only when not successful).</param>
public sealed record BulkDeviceResult(
    bool IsSuccessful,
    string? ExternalDeviceId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DeviceResponse? Device,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BulkDeviceError? Error);

/// <summary>Why one item of a bulk create failed, with the same code and field as a single request would have.</summary>
/// <param name="Code">The error code, as in the error body (<c>validation_failed</c>, <c>conflict</c>, ...).</param>
/// <param name="Message">What is wrong, for people.</param>
/// <param name="Field">The field at fault, if any.</param>
public sealed record BulkDeviceError(string Code, string Message, string? Field);

internal sealed class DeviceRow
{
    /// <summary>The select list for a device row; <see cref="Read"/> reads it by position.</summary>
    public const string Columns =
        "id AS Id, external_device_id AS ExternalDeviceId, device_type AS DeviceType, zone_number AS ZoneNumber, "
        + "additional_zone_numbers AS AdditionalZoneNumbers, name AS Name, mac AS Mac, manufacturer AS Manufacturer, "
        + "model AS Model, serial_number AS SerialNumber, version AS Version, created_at AS CreatedAt";

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

    public static DeviceRow Read(DbDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        ExternalDeviceId = reader.GetString(1),
        DeviceType = reader.GetString(2),
        ZoneNumber = reader.GetString(3),
        AdditionalZoneNumbers = reader.IsDBNull(4) ? null : reader.GetString(4),
        Name = reader.IsDBNull(5) ? null : reader.GetString(5),
        Mac = reader.IsDBNull(6) ? null : reader.GetString(6),
        Manufacturer = reader.IsDBNull(7) ? null : reader.GetString(7),
        Model = reader.IsDBNull(8) ? null : reader.GetString(8),
        SerialNumber = reader.IsDBNull(9) ? null : reader.GetString(9),
        Version = reader.GetInt64(10),
        CreatedAt = reader.GetInt64(11),
    };

    public DeviceResponse AsDto() => new(
        Id, ExternalDeviceId, DeviceType, ZoneNumber, AdditionalZoneNumbers, Name, Mac, Manufacturer, Model, SerialNumber, Http.Timestamps.Format(CreatedAt));
}
