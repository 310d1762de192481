using System.Text.Json.Serialization;

namespace Chekt.PartnerApi.Http;

/// <summary>Source-generated JSON metadata for everything the server writes or reads.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(Health.HealthStatus))]
[JsonSerializable(typeof(Dealers.DealerResponse))]
[JsonSerializable(typeof(Dealers.ConnectDealerRequest))]
[JsonSerializable(typeof(Dealers.UpdateDealerRequest))]
[JsonSerializable(typeof(Sites.SiteResponse))]
[JsonSerializable(typeof(IReadOnlyList<Sites.SiteResponse>))]
[JsonSerializable(typeof(Sites.CreateSiteRequest))]
[JsonSerializable(typeof(Sites.UpdateSiteRequest))]
[JsonSerializable(typeof(Sites.ArmingSettingsResponse))]
[JsonSerializable(typeof(Sites.UpdateArmingSettingsRequest))]
[JsonSerializable(typeof(Contacts.ContactResponse))]
[JsonSerializable(typeof(IReadOnlyList<Contacts.ContactResponse>))]
[JsonSerializable(typeof(Contacts.CreateContactRequest))]
[JsonSerializable(typeof(Contacts.UpdateContactRequest))]
[JsonSerializable(typeof(MonitoringStations.MonitoringStationResponse))]
[JsonSerializable(typeof(IReadOnlyList<MonitoringStations.MonitoringStationResponse>))]
[JsonSerializable(typeof(MonitoringStations.CreateMonitoringStationRequest))]
[JsonSerializable(typeof(MonitoringStations.UpdateMonitoringStationRequest))]
[JsonSerializable(typeof(Devices.DeviceResponse))]
[JsonSerializable(typeof(IReadOnlyList<Devices.DeviceResponse>))]
[JsonSerializable(typeof(Devices.CreateDeviceRequest))]
[JsonSerializable(typeof(Devices.UpdateDeviceRequest))]
[JsonSerializable(typeof(Devices.BulkCreateDevicesResponse))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
