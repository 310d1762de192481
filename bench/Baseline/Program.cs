using System.Text.Json.Serialization;

// The benchmark's ceiling: a plain Kestrel app with logging off that answers one GET with the
// Dealers seed's dealer object, serialised with System.Text.Json source generation.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, BaselineJson.Default));

var app = builder.Build();
var dealer = new Dealer(12345, "adc-67890", "CHeKT Security Solutions Inc.", "456 Market Street", "Suite 801, 8th Floor",
    "support@chektdealer.com", "+1-555-123-4567", "2024-03-27T12:34:56.000Z");
app.MapGet("/partner/v1/dealers/{dealerId}", (string dealerId) => TypedResults.Ok(dealer));
app.Run();

internal sealed record Dealer(
    [property: JsonPropertyName("dealer_id")] long DealerId,
    [property: JsonPropertyName("external_dealer_id")] string? ExternalDealerId,
    [property: JsonPropertyName("company_name")] string CompanyName,
    [property: JsonPropertyName("company_address1")] string? CompanyAddress1,
    [property: JsonPropertyName("company_address2")] string? CompanyAddress2,
    [property: JsonPropertyName("company_email")] string? CompanyEmail,
    [property: JsonPropertyName("company_phone_number")] string? CompanyPhoneNumber,
    [property: JsonPropertyName("created_at")] string CreatedAt);

[JsonSerializable(typeof(Dealer))]
internal sealed partial class BaselineJson : JsonSerializerContext;
