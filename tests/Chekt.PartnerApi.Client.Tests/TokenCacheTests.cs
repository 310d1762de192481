using System.Net;
using System.Text;
using Chekt.PartnerApi.Client.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>Token fetching and caching of the client-credentials handler, against a scripted token endpoint.</summary>
public sealed class TokenCacheTests
{
    private const string DealerJson = """{"dealer_id":1,"company_name":"D","created_at":"2024-03-27T12:34:56.000Z"}""";

    [Fact]
    public async Task ManyConcurrentCallsShareOneTokenRequest()
    {
        var issued = 0;
        using var server = new FakeServer { Otherwise = request => Answer(request, () => Token($"t{Interlocked.Increment(ref issued)}", 3600, delayMs: 50)) };
        using var client = server.Client(credentials: new ClientSecretCredentials("client-1", "secret-1"));

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.Dealers.GetAsync(1)));

        Assert.Equal(1, issued);
        Assert.All(server.Attempts.Where(a => a.Uri.AbsolutePath != "/oauth/token"), a => Assert.Equal("Bearer t1", a.Authorization));
        var tokenRequest = server.Attempts.Single(a => a.Uri.AbsolutePath == "/oauth/token");
        Assert.Equal("grant_type=client_credentials", tokenRequest.Body);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("client-1:secret-1")), tokenRequest.Authorization);
        // The token request carries the trace id of the call that needed it.
        Assert.Contains(tokenRequest.TraceId, server.Attempts.Where(a => a.Uri.AbsolutePath != "/oauth/token").Select(a => a.TraceId));
    }

    [Fact]
    public async Task ATokenIsReplacedShortlyBeforeItExpires()
    {
        var clock = new ManualClock();
        var issued = 0;
        using var server = new FakeServer { Otherwise = request => Answer(request, () => Token($"t{++issued}", 600)) };
        using var client = server.Client(credentials: new ClientSecretCredentials("client-1", "secret-1") { TimeProvider = clock });

        await client.Dealers.GetAsync(1);
        clock.Advance(TimeSpan.FromSeconds(530));
        await client.Dealers.GetAsync(1);
        clock.Advance(TimeSpan.FromSeconds(20)); // 550 s: within the last 60 s of the token's life
        await client.Dealers.GetAsync(1);

        Assert.Equal(2, issued);
        Assert.Equal(["Bearer t1", "Bearer t1", "Bearer t2"], server.Attempts.Where(a => a.Uri.AbsolutePath != "/oauth/token").Select(a => a.Authorization));
    }

    [Fact]
    public async Task ATokenTheApiRejectsIsReplacedAndTheCallSentOnceMore()
    {
        var issued = 0;
        using var server = new FakeServer
        {
            Otherwise = request => Answer(request, () => Token($"t{++issued}", 3600), api: request.Headers.Authorization!.Parameter == "t1"
                ? Unauthorized()
                : FakeServer.Json(HttpStatusCode.OK, DealerJson)),
        };
        using var client = server.Client(credentials: new ClientSecretCredentials("client-1", "secret-1"));

        var dealer = await client.Dealers.GetAsync(1);

        Assert.Equal(1, dealer.DealerId);
        Assert.Equal(2, issued);
    }

    [Fact]
    public async Task ATokenEndpointErrorBecomesAnExceptionWithTheOAuthCode()
    {
        using var server = new FakeServer().ThenJson(HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"Client authentication failed."}""");
        using var client = server.Client(credentials: new ClientSecretCredentials("client-1", "wrong"));

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => client.Dealers.GetAsync(1));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("invalid_client", error.Code);
        Assert.Equal("Client authentication failed.", error.Message);
        Assert.Single(server.Attempts);
    }

    [Fact]
    public async Task CallsWaitingForARefusedTokenRequestShareItsAnswerAndALaterCallAsksAgain()
    {
        const int Calls = 20;
        var asked = 0;
        var started = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = new FakeServer
        {
            Otherwise = request => Answer(request, () =>
            {
                Interlocked.Increment(ref asked);
                // The refusal comes once every call has started and queued behind this token request.
                allStarted.Task.Wait(TimeSpan.FromSeconds(30));
                Thread.Sleep(100);
                return FakeServer.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"Client authentication failed."}""");
            }),
        };
        using var client = server.Client(credentials: new ClientSecretCredentials("client-1", "revoked"));

        var errors = await Task.WhenAll(Enumerable.Range(0, Calls).Select(_ => Task.Run(() =>
        {
            if (Interlocked.Increment(ref started) == Calls)
            {
                allStarted.SetResult();
            }

            return Assert.ThrowsAsync<PartnerApiException>(() => client.Dealers.GetAsync(1));
        })));

        Assert.All(errors, error => Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (error.StatusCode, error.Code)));
        Assert.Equal(Calls, errors.Distinct().Count());
        Assert.Equal(1, asked);

        // A call made after the refusal asks again.
        await Assert.ThrowsAsync<PartnerApiException>(() => client.Dealers.GetAsync(1));
        Assert.Equal(2, asked);
    }

    [Fact]
    public async Task ABusyTokenEndpointIsRetried()
    {
        using var server = new FakeServer()
            .Then(_ =>
            {
                var busy = FakeServer.Json(HttpStatusCode.TooManyRequests, """{"error":"rate_limited","error_description":"Slow down."}""");
                busy.Headers.TryAddWithoutValidation("Retry-After", "0");
                return busy;
            });
        server.Otherwise = request => Answer(request, () => Token("t1", 3600));
        using var client = server.Client(credentials: new ClientSecretCredentials("client-1", "secret-1"));

        await client.Dealers.GetAsync(1);

        Assert.Equal(["/oauth/token", "/oauth/token", "/partner/v1/dealers/1"], server.Attempts.Select(a => a.Uri.AbsolutePath));
    }

    [Fact]
    public async Task ScopeAudienceAndPartnerClaimAreAskedFor()
    {
        using var server = new FakeServer { Otherwise = request => Answer(request, () => Token("t1", 3600)) };
        using var client = server.Client(credentials: new ClientSecretCredentials("client-1", "secret-1")
        {
            Scope = "read:dealer read:sites", Audience = "https://api.chekt.com/partner", PartnerClaim = new PartnerClaim(12345, 1),
        });

        await client.Dealers.GetAsync(12345);

        var form = System.Web.HttpUtility.ParseQueryString(server.Attempts.First().Body!);
        Assert.Equal("read:dealer read:sites", form["scope"]);
        Assert.Equal("https://api.chekt.com/partner", form["audience"]);
        Assert.Equal("""{"dealer_id":"12345","site_id":"1"}""", form[PartnerClaim.DefaultName]);
    }

    private static HttpResponseMessage Answer(HttpRequestMessage request, Func<HttpResponseMessage> token, HttpResponseMessage? api = null) =>
        request.RequestUri!.AbsolutePath == "/oauth/token" ? token() : api ?? FakeServer.Json(HttpStatusCode.OK, DealerJson);

    private static HttpResponseMessage Token(string accessToken, int expiresIn, int delayMs = 0)
    {
        if (delayMs > 0)
        {
            Thread.Sleep(delayMs); // a slow token endpoint, so that concurrent callers pile up behind the first
        }

        return FakeServer.Json(HttpStatusCode.OK, $$"""{"access_token":"{{accessToken}}","token_type":"Bearer","expires_in":{{expiresIn}},"scope":"read:dealer"}""");
    }

    private static HttpResponseMessage Unauthorized()
    {
        var response = FakeServer.Json(HttpStatusCode.Unauthorized, """{"error":{"code":"invalid_token","message":"Revoked.","request_id":"r","field":null,"details":[]}}""");
        response.Headers.WwwAuthenticate.ParseAdd("Bearer error=\"invalid_token\"");
        return response;
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
