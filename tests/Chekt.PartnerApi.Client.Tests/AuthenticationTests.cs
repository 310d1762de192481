using System.Net;
using System.Security.Cryptography;
using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>The SDK's credentials against the server's real token endpoint.</summary>
public sealed class AuthenticationTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task ManyCallsUseOneCachedToken(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);

        var siteId = await ContactsTests.NewSiteAsync(world);
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => world.Client.Sites.GetAsync(world.DealerId, siteId)));
        for (var i = 0; i < 5; i++)
        {
            await world.Client.Dealers.GetAsync(world.DealerId);
        }

        Assert.Equal(16, world.Traffic.ApiRequests);
        Assert.Equal(1, world.Traffic.TokenRequests);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task PrivateKeyJwtCredentialsGetTokensWithASignedAssertion(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        using var rsa = RSA.Create(2048);
        var pem = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(pem, rsa.ExportSubjectPublicKeyInfoPem());
            var keyClient = await Seed.ClientAsync(world.App, world.PartnerId, "Key client", keys: [ClientKey.FromPemFile(pem, "kid-1")]);
            Assert.Null(keyClient.Secret);

            var (client, traffic) = world.NewClient(new PrivateKeyJwtCredentials(keyClient.ClientId, rsa, "kid-1"));
            var site = await client.Sites.CreateAsync(world.DealerId, new CreateSiteRequest { ExternalSiteId = "by-key", Name = "Key site", Timezone = "UTC" });
            Assert.Equal("by-key", (await client.Sites.GetAsync(world.DealerId, site.SiteId)).ExternalSiteId);
            Assert.Equal(1, traffic.TokenRequests);

            // Every token request signs a new assertion (new jti), so a second cache gets its own token too;
            // the issuer given explicitly works like the default (the base address).
            var (second, _) = world.NewClient(PrivateKeyJwtCredentials.FromPem(keyClient.ClientId, rsa.ExportPkcs8PrivateKeyPem(), "kid-1"));
            Assert.Single(await second.Sites.ListAsync(world.DealerId));
            var (explicitIssuer, _) = world.NewClient(new PrivateKeyJwtCredentials(keyClient.ClientId, rsa, "kid-1") { AssertionAudience = PartnerApiFactory.Issuer });
            Assert.Single(await explicitIssuer.Sites.ListAsync(world.DealerId));

            // From PEM text, with settings in the initializer: narrowed to another dealer, the token cannot read this one's sites.
            var (narrowed, _) = world.NewClient(new PrivateKeyJwtCredentials(keyClient.ClientId, rsa.ExportPkcs8PrivateKeyPem(), "kid-1")
            {
                AssertionAudience = PartnerApiFactory.Issuer, PartnerClaim = new PartnerClaim(world.DealerId + 1000),
            });
            var refused = await Assert.ThrowsAsync<PartnerApiException>(() => narrowed.Sites.ListAsync(world.DealerId));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

            // A key the server does not know is refused at the token endpoint.
            using var otherKey = RSA.Create(2048);
            var (wrong, _) = world.NewClient(new PrivateKeyJwtCredentials(keyClient.ClientId, otherKey, "kid-1"));
            var error = await Assert.ThrowsAsync<PartnerApiException>(() => wrong.Sites.ListAsync(world.DealerId));
            // Note: RFC 6749 §5.2 — 401 is required only after HTTP Basic; the server answers an assertion failure with 400.
            Assert.Equal((HttpStatusCode.BadRequest, "invalid_client"), (error.StatusCode, error.Code));
        }
        finally
        {
            File.Delete(pem);
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AWrongSecretIsInvalidClient(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var (client, _) = world.NewClient(new ClientSecretCredentials(world.M2M.ClientId, "wrong-secret"));

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => client.Dealers.GetAsync(world.DealerId));

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (error.StatusCode, error.Code));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ScopeAndPartnerClaimNarrowTheTokens(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var otherDealer = await Seed.DealerAsync(world.App, "Second Dealer");
        await Seed.ConnectAsync(world.App, world.PartnerId, otherDealer, "dealer-ext-2");

        var (readOnly, _) = world.NewClient(new ClientSecretCredentials(world.M2M.ClientId, world.M2M.Secret!) { Scope = "read:sites" });
        Assert.Empty(await readOnly.Sites.ListAsync(world.DealerId));
        var noScope = await Assert.ThrowsAsync<PartnerApiException>(() =>
            readOnly.Sites.CreateAsync(world.DealerId, new CreateSiteRequest { ExternalSiteId = "s", Name = "S", Timezone = "UTC" }));
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), (noScope.StatusCode, noScope.Code));

        var (oneDealer, _) = world.NewClient(new ClientSecretCredentials(world.M2M.ClientId, world.M2M.Secret!) { PartnerClaim = new PartnerClaim(world.DealerId) });
        Assert.Empty(await oneDealer.Sites.ListAsync(world.DealerId));
        var outside = await Assert.ThrowsAsync<PartnerApiException>(() => oneDealer.Sites.ListAsync(otherDealer));
        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
    }
}
