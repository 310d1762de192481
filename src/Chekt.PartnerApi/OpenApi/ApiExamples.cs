using System.Text.Json.Nodes;

namespace Chekt.PartnerApi.OpenApi;

/// <summary>
/// Request and response examples of the OpenAPI document, by operation id. The dealer and contact
/// examples are the seeds' (Dealers API, Contacts API); the others follow them.
/// </summary>
internal static class ApiExamples
{
    private const string Dealer =
        """
        {"dealer_id": 12345, "external_dealer_id": "adc-67890", "company_name": "CHeKT Security Solutions Inc.",
         "company_address1": "456 Market Street", "company_address2": "Suite 801, 8th Floor",
         "company_email": "support@chektdealer.com", "company_phone_number": "+1-555-123-4567",
         "created_at": "2024-03-27T12:34:56.000Z"}
        """;

    private const string Contact =
        """
        {"contact_id": 1, "external_contact_id": "1234", "first_name": "John", "last_name": "Doe",
         "phone_number": "1234567890", "email": "john.doe@example.com", "created_at": "2021-07-01T00:00:00.000Z"}
        """;

    private const string Site =
        """
        {"site_id": 1, "external_site_id": "site-1001", "name": "Main Street Store", "monitoring_station_id": 7,
         "external_monitoring_station_id": "ms-east", "account_number": "1001", "address1": "456 Market Street",
         "address2": "Suite 801", "timezone": "America/New_York", "is_activated": 0, "created_at": "2024-03-27T12:40:00.000Z"}
        """;

    private const string ArmingSettings =
        """
        {"site_id": 1, "external_site_id": "site-1001", "name": "Main Street Store", "security_type": 1}
        """;

    private const string Station =
        """
        {"monitoring_station_id": 7, "external_monitoring_station_id": "ms-east", "name": "East Coast Central Station",
         "prefix": "EC", "linecard": "12", "created_at": "2024-03-27T12:36:00.000Z"}
        """;

    private const string Device =
        """
        {"device_id": 31, "external_device_id": "cam-001", "device_type": "camera", "zone_number": "001",
         "additional_zone_numbers": "002,003", "name": "Front door", "mac": "00:1A:2B:3C:4D:5E",
         "manufacturer": "CHeKT", "model": "CV-100", "serial_number": "SN-0001", "created_at": "2024-03-27T12:45:00.000Z"}
        """;

    private static readonly Dictionary<string, string> Requests = new(StringComparer.Ordinal)
    {
        ["ConnectDealer"] = """{"external_dealer_id": "adc-67890", "company_name": "CHeKT Security Solutions"}""",
        ["UpdateDealer"] =
            """
            {"company_name": "CHeKT Security Solutions Updated", "company_address1": "789 New Street", "company_address2": "Floor 10",
             "company_email": "newsupport@chektdealer.com", "company_phone_number": "+1-555-999-8888"}
            """,
        ["CreateSite"] =
            """
            {"external_site_id": "site-1001", "name": "Main Street Store", "timezone": "America/New_York", "monitoring_station_id": 7,
             "account_number": "1001", "address1": "456 Market Street", "address2": "Suite 801"}
            """,
        ["UpdateSite"] = """{"name": "Main Street Store (north entrance)", "address2": null}""",
        ["UpdateArmingSettings"] = """{"security_type": 3}""",
        ["CreateContact"] =
            """
            {"external_contact_id": "1234", "first_name": "John", "last_name": "Doe", "phone_number": "1234567890",
             "email": "john.doe@example.com"}
            """,
        ["UpdateContact"] = """{"first_name": "Jane", "last_name": "Smith", "phone_number": "9876543210", "email": "jane.smith@example.com"}""",
        ["CreateMonitoringStation"] = """{"external_monitoring_station_id": "ms-east", "name": "East Coast Central Station", "prefix": "EC", "linecard": "12"}""",
        ["UpdateMonitoringStation"] = """{"linecard": "14"}""",
        ["CreateDevices"] =
            """
            [{"external_device_id": "cam-001", "device_type": "camera", "zone_number": "001", "additional_zone_numbers": "002,003",
              "name": "Front door", "mac": "00:1A:2B:3C:4D:5E", "manufacturer": "CHeKT", "model": "CV-100", "serial_number": "SN-0001"},
             {"external_device_id": "cam-001", "device_type": "camera", "zone_number": "004"}]
            """,
        ["UpdateDevice"] = """{"name": "Front door (outside)", "serial_number": null}""",
    };

    private static readonly Dictionary<string, string> Responses = new(StringComparer.Ordinal)
    {
        ["ConnectDealer"] = Dealer,
        ["GetDealer"] = Dealer,
        ["UpdateDealer"] =
            """
            {"dealer_id": 12345, "external_dealer_id": "adc-67890", "company_name": "CHeKT Security Solutions Updated",
             "company_address1": "789 New Street", "company_address2": "Floor 10", "company_email": "newsupport@chektdealer.com",
             "company_phone_number": "+1-555-999-8888", "created_at": "2024-03-27T12:34:56.000Z"}
            """,
        ["DisconnectDealer"] =
            """
            {"dealer_id": 12345, "external_dealer_id": null, "company_name": "CHeKT Security Solutions Inc.",
             "company_address1": "456 Market Street", "company_address2": "Suite 801, 8th Floor",
             "company_email": "support@chektdealer.com", "company_phone_number": "+1-555-123-4567",
             "created_at": "2024-03-27T12:34:56.000Z"}
            """,
        ["CreateSite"] = Site,
        ["ListSites"] = $"[{Site}]",
        ["GetSite"] = Site,
        ["UpdateSite"] =
            """
            {"site_id": 1, "external_site_id": "site-1001", "name": "Main Street Store (north entrance)", "monitoring_station_id": 7,
             "external_monitoring_station_id": "ms-east", "account_number": "1001", "address1": "456 Market Street",
             "address2": null, "timezone": "America/New_York", "is_activated": 0, "created_at": "2024-03-27T12:40:00.000Z"}
            """,
        ["GetArmingSettings"] = ArmingSettings,
        ["UpdateArmingSettings"] = """{"site_id": 1, "external_site_id": "site-1001", "name": "Main Street Store", "security_type": 3}""",
        ["CreateContact"] = Contact,
        ["ListContacts"] = $"[{Contact}]",
        ["GetContact"] = Contact,
        ["UpdateContact"] =
            """
            {"contact_id": 1, "external_contact_id": "1234", "first_name": "Jane", "last_name": "Smith", "phone_number": "9876543210",
             "email": "jane.smith@example.com", "created_at": "2021-07-01T00:00:00.000Z"}
            """,
        ["CreateMonitoringStation"] = Station,
        ["ListMonitoringStations"] = $"[{Station}]",
        ["GetMonitoringStation"] = Station,
        ["UpdateMonitoringStation"] =
            """
            {"monitoring_station_id": 7, "external_monitoring_station_id": "ms-east", "name": "East Coast Central Station",
             "prefix": "EC", "linecard": "14", "created_at": "2024-03-27T12:36:00.000Z"}
            """,
        ["CreateDevices"] =
            $$$"""
            {"success_count": 1, "failure_count": 1, "results": [
              {"is_successful": true, "external_device_id": "cam-001", "device": {{{Device}}}},
              {"is_successful": false, "external_device_id": "cam-001",
               "error": {"code": "conflict", "message": "The external_device_id 'cam-001' appears more than once in this request.", "field": "external_device_id"}}]}
            """,
        ["ListDevices"] = $"[{Device}]",
        ["GetDevice"] = Device,
        ["UpdateDevice"] =
            """
            {"device_id": 31, "external_device_id": "cam-001", "device_type": "camera", "zone_number": "001",
             "additional_zone_numbers": "002,003", "name": "Front door (outside)", "mac": "00:1A:2B:3C:4D:5E",
             "manufacturer": "CHeKT", "model": "CV-100", "serial_number": null, "created_at": "2024-03-27T12:45:00.000Z"}
            """,
    };

    /// <summary>The error body of the errors page (docs/errors.md).</summary>
    public const string Error =
        """
        {"error": {"code": "unknown_field", "message": "Unknown field 'nickname'.", "request_id": "550e8400-e29b-41d4-a716-123456789000",
                   "field": "nickname", "details": [{"field": "nickname", "message": "Unknown field 'nickname'."}]}}
        """;

    public static JsonNode? Request(string? operationId) => Parse(Requests, operationId);

    public static JsonNode? Response(string? operationId) => Parse(Responses, operationId);

    /// <summary>Every operation id that has an example (the tests check they name real operations).</summary>
    public static IEnumerable<string> OperationIds => Requests.Keys.Concat(Responses.Keys).Distinct(StringComparer.Ordinal);

    private static JsonNode? Parse(Dictionary<string, string> examples, string? operationId) =>
        operationId is not null && examples.TryGetValue(operationId, out var json) ? JsonNode.Parse(json) : null;
}
