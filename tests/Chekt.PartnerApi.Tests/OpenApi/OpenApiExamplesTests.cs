using System.Text.Json.Nodes;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.OpenApi;

/// <summary>
/// The document's examples are real: each request example, sent as it is, gets the documented success
/// status, and the answer has exactly the members of the documented response example.
/// </summary>
public sealed class OpenApiExamplesTests
{
    [Fact]
    public async Task RequestExamplesAreAcceptedAndAnsweredLikeTheResponseExamples()
    {
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Sqlite);
        var document = JsonNode.Parse(await world.App.Client.GetStringAsync("/openapi/v1.json"))!.AsObject();
        var run = new ExampleRunner(world, document);
        var dealer = world.DealerPath;

        await run.SendAsync("GetDealer", dealer);
        var updated = await run.SendAsync("UpdateDealer", dealer);

        var station = await run.SendAsync("CreateMonitoringStation", $"{dealer}/monitoring-stations");
        var stationPath = $"{dealer}/monitoring-stations/{station["monitoring_station_id"]}";
        await run.SendAsync("ListMonitoringStations", $"{dealer}/monitoring-stations");
        await run.SendAsync("GetMonitoringStation", stationPath);
        await run.SendAsync("UpdateMonitoringStation", stationPath);

        // The site example refers to a station by id; use the one just created.
        var site = await run.SendAsync("CreateSite", $"{dealer}/sites", body => body["monitoring_station_id"] = station["monitoring_station_id"]!.DeepClone());
        var sitePath = $"{dealer}/sites/{site["site_id"]}";
        await run.SendAsync("ListSites", $"{dealer}/sites");
        await run.SendAsync("GetSite", sitePath);
        await run.SendAsync("UpdateSite", sitePath);
        await run.SendAsync("GetArmingSettings", $"{sitePath}/arming-settings");
        await run.SendAsync("UpdateArmingSettings", $"{sitePath}/arming-settings");

        var contact = await run.SendAsync("CreateContact", $"{sitePath}/contacts");
        var contactPath = $"{sitePath}/contacts/{contact["contact_id"]}";
        await run.SendAsync("ListContacts", $"{sitePath}/contacts");
        await run.SendAsync("GetContact", contactPath);
        await run.SendAsync("UpdateContact", contactPath);

        // The bulk example has one good item and one repeating its external id: one success, one failure, as documented.
        var bulk = await run.SendAsync("CreateDevices", $"{sitePath}/devices");
        var expected = run.ResponseExample("CreateDevices");
        Assert.Equal(expected["success_count"]!.GetValue<int>(), bulk["success_count"]!.GetValue<int>());
        Assert.Equal(expected["failure_count"]!.GetValue<int>(), bulk["failure_count"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(expected["results"]![1]!["error"], bulk["results"]![1]!["error"]), bulk.ToJsonString());
        var devicePath = $"{sitePath}/devices/{bulk["results"]![0]!["device"]!["device_id"]}";
        await run.SendAsync("ListDevices", $"{sitePath}/devices");
        await run.SendAsync("GetDevice", devicePath);
        await run.SendAsync("UpdateDevice", devicePath);

        await run.SendAsync("DeleteDevice", devicePath);
        await run.SendAsync("DeleteContact", contactPath);
        await run.SendAsync("DeleteSite", sitePath);
        await run.SendAsync("DeleteMonitoringStation", stationPath);

        // Connect and disconnect, with a dealer admin's user token. The registered company name stays (spec §3).
        var web = await Seed.ClientAsync(world.App, world.PartnerId, "Web", redirectUris: [UserTokens.RedirectUri]);
        var admin = await UserTokens.NewUserTokenAsync(world.App, web, world.DealerId, "admin@dealer.example.com");
        var connected = await run.SendAsync("ConnectDealer", "/partner/v1/dealers/connect", token: admin, notEchoed: ["company_name"]);
        Assert.Equal(updated["company_name"]!.GetValue<string>(), connected["company_name"]!.GetValue<string>());
        await run.SendAsync("DisconnectDealer", $"{dealer}/disconnect", token: admin);

        Assert.Equal(OpenApiJson.Operations(document).Count(), run.Sent.Count);
    }

    private sealed class ExampleRunner(ApiWorld world, JsonObject document)
    {
        public HashSet<string> Sent { get; } = new(StringComparer.Ordinal);

        public JsonObject ResponseExample(string operationId) => Success(Find(operationId).Operation).Value!["content"]!["application/json"]!["example"]!.AsObject();

        /// <summary>
        /// Sends the operation's request example (adjusted by <paramref name="adjust"/>) and checks the status and
        /// the answer's members against the documented ones; the request's values must come back, except <paramref name="notEchoed"/>.
        /// </summary>
        public async Task<JsonNode> SendAsync(string operationId, string path, Action<JsonObject>? adjust = null, string? token = null, string[]? notEchoed = null)
        {
            var (method, operation) = Find(operationId);
            var request = operation["requestBody"]?["content"]?["application/json"]?["example"]?.DeepClone();
            if (request is JsonObject body)
            {
                adjust?.Invoke(body);
            }

            using var response = await world.SendAsync(new HttpMethod(method.ToUpperInvariant()), path, request?.ToJsonString(), token);
            var text = await response.Content.ReadAsStringAsync();
            var success = Success(operation);
            Assert.True(success.Key == ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{operationId}: {(int)response.StatusCode} {text}, documented {success.Key}");
            Sent.Add(operationId);
            if (text.Length == 0)
            {
                Assert.Null(success.Value!["content"]);
                return new JsonObject();
            }

            var answer = JsonNode.Parse(text)!;
            var example = success.Value!["content"]!["application/json"]!["example"];
            AssertSameMembers(example, answer, operationId);
            Assert.Empty(OpenApiJson.Check(document, answer, success.Value!["content"]!["application/json"]!["schema"]!.AsObject(), operationId));
            if (request is JsonObject sent && answer is JsonObject received)
            {
                foreach (var (name, value) in sent.Where(p => received.ContainsKey(p.Key) && !(notEchoed ?? []).Contains(p.Key)))
                {
                    Assert.True(JsonNode.DeepEquals(value, received[name]), $"{operationId}: sent {name} = {value?.ToJsonString()}, got {received[name]?.ToJsonString()}");
                }
            }

            return answer;
        }

        private (string Method, JsonObject Operation) Find(string operationId)
        {
            var found = OpenApiJson.Operations(document).Single(op => op.Operation["operationId"]!.GetValue<string>() == operationId);
            return (found.Method, found.Operation);
        }

        private static KeyValuePair<string, JsonNode?> Success(JsonObject operation) =>
            operation["responses"]!.AsObject().Single(r => r.Key.StartsWith('2'));

        /// <summary>Objects have the same member names, recursively (arrays: item by item, as far as both go).</summary>
        private static void AssertSameMembers(JsonNode? example, JsonNode? actual, string at)
        {
            switch (example, actual)
            {
                case (JsonObject expected, JsonObject answer):
                    Assert.True(expected.Select(p => p.Key).SequenceEqual(answer.Select(p => p.Key)),
                        $"{at}: documented {string.Join(",", expected.Select(p => p.Key))}, answered {string.Join(",", answer.Select(p => p.Key))}");
                    foreach (var (name, value) in expected)
                    {
                        AssertSameMembers(value, answer[name], $"{at}.{name}");
                    }

                    break;
                case (JsonArray expected, JsonArray answer):
                    Assert.NotEmpty(answer);
                    for (var i = 0; i < Math.Min(expected.Count, answer.Count); i++)
                    {
                        AssertSameMembers(expected[i], answer[i], $"{at}[{i}]");
                    }

                    break;
            }
        }
    }
}
