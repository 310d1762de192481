namespace Chekt.PartnerApi.Client;

/// <summary>A device (camera or bridge) at a site.</summary>
public sealed class Device : PartnerApiResource
{
    /// <summary>The CHeKT id of the device.</summary>
    public long DeviceId { get; init; }

    /// <summary>Your id for the device.</summary>
    public string ExternalDeviceId { get; init; } = "";

    /// <summary>The kind of device: <see cref="DeviceTypes.Camera"/> or <see cref="DeviceTypes.Bridge"/>.</summary>
    public string DeviceType { get; init; } = "";

    /// <summary>The zone number, such as <c>001</c>.</summary>
    public string ZoneNumber { get; init; } = "";

    /// <summary>More zone numbers, comma-separated, such as <c>002,003</c>.</summary>
    public string? AdditionalZoneNumbers { get; init; }

    /// <summary>The device's name.</summary>
    public string? Name { get; init; }

    /// <summary>The MAC address.</summary>
    public string? Mac { get; init; }

    /// <summary>The manufacturer.</summary>
    public string? Manufacturer { get; init; }

    /// <summary>The model.</summary>
    public string? Model { get; init; }

    /// <summary>The serial number.</summary>
    public string? SerialNumber { get; init; }

    /// <summary>When the device was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The values of <see cref="Device.DeviceType"/>.</summary>
public static class DeviceTypes
{
    /// <summary>A camera.</summary>
    public const string Camera = "camera";

    /// <summary>A bridge.</summary>
    public const string Bridge = "bridge";
}

/// <summary>One device of <see cref="DevicesClient.CreateAsync"/>.</summary>
public sealed class CreateDeviceRequest
{
    /// <summary>Your id for the device, unique per site (at most 128 characters).</summary>
    public required string ExternalDeviceId { get; init; }

    /// <summary><see cref="DeviceTypes.Camera"/> or <see cref="DeviceTypes.Bridge"/>.</summary>
    public required string DeviceType { get; init; }

    /// <summary>The zone number: 1 to 4 digits, such as <c>001</c>.</summary>
    public required string ZoneNumber { get; init; }

    /// <summary>More zone numbers, comma-separated, such as <c>002,003</c>.</summary>
    public string? AdditionalZoneNumbers { get; init; }

    /// <summary>The device's name.</summary>
    public string? Name { get; init; }

    /// <summary>The MAC address: six hex pairs separated by <c>:</c> or <c>-</c>, or twelve hex digits.</summary>
    public string? Mac { get; init; }

    /// <summary>The manufacturer.</summary>
    public string? Manufacturer { get; init; }

    /// <summary>The model.</summary>
    public string? Model { get; init; }

    /// <summary>The serial number.</summary>
    public string? SerialNumber { get; init; }
}

/// <summary>
/// A partial update of a device: properties left unset are not sent and stay as they are; a
/// property set to <see langword="null"/> clears the field. See <see cref="Optional{T}"/>.
/// </summary>
public sealed class UpdateDeviceRequest
{
    /// <summary>The kind of device; it cannot be cleared.</summary>
    public Optional<string> DeviceType { get; set; }

    /// <summary>The zone number; it cannot be cleared.</summary>
    public Optional<string> ZoneNumber { get; set; }

    /// <summary>More zone numbers; <see langword="null"/> clears them.</summary>
    public Optional<string?> AdditionalZoneNumbers { get; set; }

    /// <summary>The device's name; <see langword="null"/> clears it.</summary>
    public Optional<string?> Name { get; set; }

    /// <summary>The MAC address; <see langword="null"/> clears it.</summary>
    public Optional<string?> Mac { get; set; }

    /// <summary>The manufacturer; <see langword="null"/> clears it.</summary>
    public Optional<string?> Manufacturer { get; set; }

    /// <summary>The model; <see langword="null"/> clears it.</summary>
    public Optional<string?> Model { get; set; }

    /// <summary>The serial number; <see langword="null"/> clears it.</summary>
    public Optional<string?> SerialNumber { get; set; }
}

/// <summary>The answer to a bulk create: one result per device, in the order sent.</summary>
public sealed class BulkCreateDevicesResult
{
    /// <summary>How many devices were created.</summary>
    public int SuccessCount { get; init; }

    /// <summary>How many devices were refused.</summary>
    public int FailureCount { get; init; }

    /// <summary>The result of each device, in the order sent.</summary>
    public IReadOnlyList<BulkDeviceResult> Results { get; init; } = [];
}

/// <summary>The result for one device of a bulk create.</summary>
public sealed class BulkDeviceResult
{
    /// <summary>Whether this device was created.</summary>
    public bool IsSuccessful { get; init; }

    /// <summary>The device's external id, as sent (when it was a string).</summary>
    public string? ExternalDeviceId { get; init; }

    /// <summary>The created device, when successful.</summary>
    public Device? Device { get; init; }

    /// <summary>Why the device was refused, when not successful.</summary>
    public BulkDeviceError? Error { get; init; }
}

/// <summary>Why one device of a bulk create was refused: the code and field a single request would have had.</summary>
public sealed class BulkDeviceError
{
    /// <summary>The error code, such as <c>validation_failed</c> or <c>conflict</c>.</summary>
    public string Code { get; init; } = "";

    /// <summary>The human-readable message.</summary>
    public string Message { get; init; } = "";

    /// <summary>The field at fault, if any.</summary>
    public string? Field { get; init; }
}
