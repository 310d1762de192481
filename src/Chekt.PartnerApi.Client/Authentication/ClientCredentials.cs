using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// The OAuth 2.0 <c>client_credentials</c> grant against the server's <c>/oauth/token</c>. Tokens
/// are cached and reused until shortly before they expire; when several requests need a new one at
/// once, a single token request is made and the others wait for it.
/// </summary>
public abstract class ClientCredentials : PartnerApiCredentials
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile CachedToken? _cached;
    private volatile RefreshFailure? _lastFailure;
    private long _tokenRequests;

    private protected ClientCredentials(string clientId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        ClientId = clientId;
    }

    /// <summary>The OAuth client id.</summary>
    public string ClientId { get; }

    /// <summary>The scopes to ask for, space-separated; <see langword="null"/> asks for every scope the client is allowed.</summary>
    public string? Scope { get; init; }

    /// <summary>The API audience to ask for (the <c>audience</c> parameter); <see langword="null"/> for the server's default.</summary>
    public string? Audience { get; init; }

    /// <summary>Narrows the tokens to one dealer (and site); <see langword="null"/> for unrestricted tokens.</summary>
    public PartnerClaim? PartnerClaim { get; init; }

    /// <summary>The name of the partner-claim parameter, when the server is configured with another than <see cref="PartnerClaim.DefaultName"/>.</summary>
    public string PartnerClaimName { get; init; } = PartnerClaim.DefaultName;

    /// <summary>The token endpoint; <see langword="null"/> for <c>oauth/token</c> under the client's base address.</summary>
    public Uri? TokenEndpoint { get; init; }

    /// <summary>How long before its expiry a cached token is replaced (default 60 s; at most half the token's lifetime).</summary>
    public TimeSpan RefreshBeforeExpiry { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The clock the cache runs on.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal override async ValueTask<string> GetAccessTokenAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        if (Fresh(_cached) is { } token)
        {
            return token;
        }

        var requestsBefore = Interlocked.Read(ref _tokenRequests);
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another request may have refreshed it while this one waited.
            if (Fresh(_cached) is { } refreshed)
            {
                return refreshed;
            }

            // Note: a token request that was refused while this call waited for it answers this call too, so that the
            // calls queued behind one refresh do not each ask again a token endpoint that has just refused (a 429, a
            // revoked client). A call made after that answer asks afresh.
            if (_lastFailure is { } failure && failure.TokenRequest > requestsBefore)
            {
                throw failure.Error.Copy();
            }

            try
            {
                var issued = await RequestTokenAsync(context, cancellationToken).ConfigureAwait(false);
                _cached = issued;
                Interlocked.Increment(ref _tokenRequests);
                return issued.AccessToken;
            }
            catch (PartnerApiException error)
            {
                _lastFailure = new RefreshFailure(Interlocked.Increment(ref _tokenRequests), error);
                throw;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    internal override bool Invalidate(string rejectedToken)
    {
        var cached = _cached;
        if (cached is not null && cached.AccessToken == rejectedToken)
        {
            // Only the rejected token is dropped: a fresher one fetched meanwhile stays.
            Interlocked.CompareExchange(ref _cached, null, cached);
        }

        return true;
    }

    /// <summary>Adds the client authentication to the token request (its headers or its form).</summary>
    private protected abstract void Authenticate(HttpRequestMessage request, IList<KeyValuePair<string, string>> form, Uri tokenEndpoint, Uri baseAddress);

    private string? Fresh(CachedToken? cached) => cached is not null && TimeProvider.GetUtcNow() < cached.RefreshAt ? cached.AccessToken : null;

    private async Task<CachedToken> RequestTokenAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var endpoint = TokenEndpoint ?? new Uri(context.BaseAddress, "oauth/token");
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (!string.IsNullOrWhiteSpace(Scope))
        {
            form.Add(new("scope", Scope));
        }

        if (!string.IsNullOrWhiteSpace(Audience))
        {
            form.Add(new("audience", Audience));
        }

        if (PartnerClaim is not null)
        {
            form.Add(new(PartnerClaimName, PartnerClaim.ToJson()));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (context.TraceId is not null)
        {
            request.Headers.TryAddWithoutValidation(PartnerApiHeaders.TraceId, context.TraceId);
        }

        Authenticate(request, form, endpoint, context.BaseAddress);
        request.Content = new FormUrlEncodedContent(form);

        var requestedAt = TimeProvider.GetUtcNow();
        using var response = await context.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await PartnerApiException.FromResponseAsync(response, cancellationToken).ConfigureAwait(false);
        }

        TokenResponse? body;
        try
        {
            body = JsonSerializer.Deserialize<TokenResponse>(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (JsonException)
        {
            body = null;
        }

        if (string.IsNullOrEmpty(body?.AccessToken))
        {
            throw new PartnerApiException(response.StatusCode, "invalid_token_response", "The token endpoint answered without an access_token.", null, null);
        }

        var lifetime = TimeSpan.FromSeconds(body.ExpiresIn is > 0 ? body.ExpiresIn.Value : 300);
        var margin = RefreshBeforeExpiry < lifetime / 2 ? RefreshBeforeExpiry : lifetime / 2;
        // Note: the lifetime counts from when the request was sent, so time spent in transit is not counted twice.
        return new CachedToken(body.AccessToken, requestedAt + lifetime - margin);
    }

    private sealed record CachedToken(string AccessToken, DateTimeOffset RefreshAt);

    private sealed record RefreshFailure(long TokenRequest, PartnerApiException Error);

    private sealed class TokenResponse
    {
        [JsonPropertyName("access_token")]
        public string? AccessToken { get; init; }

        [JsonPropertyName("expires_in")]
        public long? ExpiresIn { get; init; }
    }
}
