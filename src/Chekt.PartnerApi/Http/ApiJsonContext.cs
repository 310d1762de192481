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
public sealed partial class ApiJsonContext : JsonSerializerContext;
