using System.Globalization;
using System.Text;

namespace Chekt.PartnerApi.Bench;

/// <summary>
/// The soak: a long mixed load (reads, lists, creates with and without Idempotency-Key, updates) on
/// one server, with its memory sampled throughout; passes with zero non-2xx answers and stable memory.
/// </summary>
internal static class Soak
{
    public static string MixedScript(SeededData seeded, string token)
    {
        var dealer = $"/partner/v1/dealers/{seeded.DealerId}";
        return $$"""
            local threads = 0
            function setup(thread)
              threads = threads + 1
              thread:set("prefix", tostring(os.time()) .. "-" .. threads)
            end
            local counter = 0
            local auth = "Bearer {{token}}"
            function request()
              counter = counter + 1
              local kind = counter % 10
              local h = { ["Authorization"] = auth }
              if kind < 4 then
                return wrk.format("GET", "{{dealer}}", h)
              elseif kind < 6 then
                return wrk.format("GET", "{{dealer}}/sites/{{seeded.SiteId}}/contacts/{{seeded.ContactId}}", h)
              elseif kind < 7 then
                return wrk.format("GET", "{{dealer}}/sites/{{seeded.ListSiteId}}/contacts", h)
              elseif kind < 9 then
                h["Content-Type"] = "application/json"
                if kind == 8 then h["Idempotency-Key"] = "soak-" .. prefix .. "-" .. counter end
                local body = '{"external_contact_id":"soak-' .. prefix .. '-' .. counter .. '","first_name":"Soak","last_name":"Test","email":"soak@example.com"}'
                return wrk.format("POST", "{{dealer}}/sites/{{seeded.WriteSiteId}}/contacts", h, body)
              else
                h["Content-Type"] = "application/json"
                return wrk.format("PUT", "{{dealer}}/sites/{{seeded.WriteSiteId}}/contacts/{{seeded.UpdateContactId}}", h, '{"phone_number":"+1 555 0100"}')
              end
            end
            """;
    }

    public static async Task<string> RunAsync(ServiceProcess server, SeededData seeded, string token, TimeSpan duration, int connections, string work)
    {
        var samples = new List<(TimeSpan At, double RssMiB)>();
        var started = DateTime.UtcNow;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                samples.Add((DateTime.UtcNow - started, server.ResidentMemoryMiB()));
                await Task.Delay(5000);
            }
        });
        var result = await Wrk.RunScriptAsync(server.BaseUrl + "/", MixedScript(seeded, token), connections, duration, work);
        await stop.CancelAsync();
        await sampler;

        var half = samples[samples.Count / 2].RssMiB;
        var end = samples[^1].RssMiB;
        var passed = result.IsClean && end - half <= end * 0.05;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Soak {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC").AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Mixed load for {duration.TotalMinutes:0.#} min at {connections} connections: 40% GET dealer, 20% GET contact, 10% list contacts, 10% create contact, 10% create contact with Idempotency-Key, 10% update contact.").AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"**{(passed ? "Passed" : "Failed")}**: {result.Requests} requests, {result.RequestsPerSecond:0} req/s, p50 {result.P50Ms:0.00} ms, p99 {result.P99Ms:0.00} ms, non-2xx {result.Non2xx}, socket errors {result.SocketErrors}; RSS {samples[0].RssMiB:0} MiB at start, {half:0} MiB at half, {end:0} MiB at the end, {samples.Max(s => s.RssMiB):0} MiB max.").AppendLine()
            .AppendLine("| minute | RSS MiB |").AppendLine("|---|---|");
        foreach (var sample in samples.Where((_, index) => index % 12 == 0))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {sample.At.TotalMinutes:0.0} | {sample.RssMiB:0} |");
        }

        return text.ToString();
    }
}
