using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.Extensions.Primitives;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>RFC 6750 §2.1: <c>Authorization: Bearer &lt;token&gt;</c>, exactly one header, scheme case-insensitive.</summary>
public sealed class BearerHeaderTests
{
    [Theory]
    [InlineData("Bearer abc.def.ghi", "abc.def.ghi")]
    [InlineData("bearer abc.def.ghi", "abc.def.ghi")]
    [InlineData("BEARER   abc.def.ghi  ", "abc.def.ghi")]
    [InlineData("Bearer", null)]
    [InlineData("Bearer ", null)]
    [InlineData("Bearerabc.def.ghi", null)]
    [InlineData("Basic dXNlcjpwYXNz", null)]
    [InlineData("Bearer abc def", null)]
    [InlineData("Bearer abc\tdef", null)]
    [InlineData("Bearer a,Bearer b", null)]
    [InlineData("", null)]
    public void ReadsTheTokenOfOneBearerHeader(string header, string? expected) =>
        Assert.Equal(expected, BearerTokenFilter.ReadBearerToken(new StringValues(header))?.ToString());

    [Fact]
    public void TwoAuthorizationHeadersAreRefused() =>
        Assert.Null(BearerTokenFilter.ReadBearerToken(new StringValues(["Bearer a", "Bearer b"])));

    [Theory, OnSqlite]
    public async Task TheSchemeIsCaseInsensitiveAndADuplicatedHeaderIs401(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        using var lower = new HttpRequestMessage(HttpMethod.Get, world.DealerPath);
        lower.Headers.TryAddWithoutValidation("Authorization", "bearer " + world.Token);
        Assert.Equal(200, (int)(await world.App.Client.SendAsync(lower)).StatusCode);

        using var twice = new HttpRequestMessage(HttpMethod.Get, world.DealerPath);
        twice.Headers.TryAddWithoutValidation("Authorization", ["Bearer " + world.Token, "Bearer " + world.Token]);
        var response = await world.App.Client.SendAsync(twice);
        await response.ReadErrorAsync(401, "invalid_token");
    }
}
