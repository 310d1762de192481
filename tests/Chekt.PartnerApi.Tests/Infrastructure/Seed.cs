using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Tests.Infrastructure;

public sealed record SeededClient(string ClientId, string? Secret);

/// <summary>Creates partners, clients, dealers and users through the operator's own code paths, and gets real tokens.</summary>
public static class Seed
{
    public const string Password = "correct horse battery staple";

    public static Task<long> PartnerAsync(TestApp app, string name = "Partner") =>
        app.Services.GetRequiredService<Operator>().AddPartnerAsync(name, CancellationToken.None);

    public static async Task<SeededClient> ClientAsync(TestApp app, long partnerId, string name = "Client", IReadOnlyList<string>? redirectUris = null,
        IReadOnlyList<string>? scopes = null, bool isPublic = false, bool requirePkce = false, IReadOnlyList<ClientKey>? keys = null, IReadOnlyList<string>? logoutUrls = null)
    {
        var client = await app.Services.GetRequiredService<Operator>().AddClientAsync(
            new ClientRegistration(partnerId, name, isPublic, isPublic || requirePkce, scopes ?? [.. Scopes.All], redirectUris ?? [], logoutUrls ?? [], keys ?? []),
            CancellationToken.None);
        return new SeededClient(client.ClientId, client.ClientSecret);
    }

    public static Task<long> DealerAsync(TestApp app, string name = "Dealer Inc.") =>
        app.Services.GetRequiredService<Operator>().AddDealerAsync(name, "456 Market Street", null, "support@dealer.example.com", "+1-555-123-4567", CancellationToken.None);

    public static async Task<long> UserAsync(TestApp app, long dealerId, string email, string role = "admin", string password = Password)
    {
        var iterations = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.PasswordHashIterations;
        return (await app.Services.GetRequiredService<Operator>().AddUserAsync(dealerId, email, role, PasswordHasher.Hash(password, iterations), CancellationToken.None))!.Value;
    }

    /// <summary>Connects a dealer to a partner directly (the connect API itself is tested with user tokens).</summary>
    public static async Task ConnectAsync(TestApp app, long partnerId, long dealerId, string externalDealerId)
    {
        await using var connection = await app.Services.GetRequiredService<Db>().OpenAsync();
        await connection.ExecuteAsync(
            "INSERT INTO dealer_connections (partner_id, dealer_id, external_dealer_id, company_name, connected_at) VALUES (@partnerId, @dealerId, @externalDealerId, 'x', 0)",
            new { partnerId, dealerId, externalDealerId });
    }

    public static async Task<HttpResponseMessage> RequestTokenAsync(HttpClient http, IEnumerable<KeyValuePair<string, string>> form, (string Id, string Secret)? basic = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token") { Content = new FormUrlEncodedContent(form) };
        if (basic is { } credentials)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(credentials.Id)}:{Uri.EscapeDataString(credentials.Secret)}")));
        }

        return await http.SendAsync(request);
    }

    public static async Task<string> ClientCredentialsTokenAsync(TestApp app, SeededClient client, string? scope = null, string? partnerClaim = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        if (partnerClaim is not null)
        {
            form["https://api.chekt.com/claims/partner"] = partnerClaim;
        }

        var response = await RequestTokenAsync(app.Client, form, (client.ClientId, client.Secret!));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    public static HttpRequestMessage Authorized(HttpMethod method, string path, string token, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }
}
