using System.Net;
using System.Net.Http.Headers;
using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// Adds <c>Authorization: Bearer</c> with a token from <see cref="PartnerApiCredentials"/> to every
/// request. Client-credentials tokens are fetched from the server's <c>/oauth/token</c> through this
/// handler's inner handler and cached; when the API answers <c>401 invalid_token</c> (a revoked token,
/// a rotated key), the token is dropped and the request sent once more with a new one. A request that
/// already carries an <c>Authorization</c> header (see <see cref="RequestOptions.AccessToken"/>) is left as it is.
/// </summary>
public sealed class PartnerApiAuthenticationHandler : DelegatingHandler
{
    // Marks an Authorization header this handler set, so that a retry of the same request gets a current token.
    private static readonly HttpRequestOptionsKey<bool> AddedByHandler = new("Chekt.PartnerApi.Client.AuthorizationAdded");

    private readonly PartnerApiCredentials _credentials;
    private readonly Uri _baseAddress;

    /// <summary>Creates the handler.</summary>
    /// <param name="credentials">Where tokens come from.</param>
    /// <param name="baseAddress">The server's base address (such as <c>https://api.example.com/</c>); the token endpoint is <c>oauth/token</c> under it.</param>
    public PartnerApiAuthenticationHandler(PartnerApiCredentials credentials, Uri baseAddress)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(baseAddress);
        _credentials = credentials;
        _baseAddress = PartnerApiClientOptions.WithTrailingSlash(baseAddress);
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Headers.Authorization is not null && !(request.Options.TryGetValue(AddedByHandler, out var added) && added))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        // The token request carries the trace id of the call that needed it, so both show up together in the server's logs.
        var traceId = request.Headers.TryGetValues(PartnerApiHeaders.TraceId, out var values) ? values.FirstOrDefault() : null;
        var context = new TokenRequestContext(_baseAddress, base.SendAsync, traceId);
        var token = await _credentials.GetAccessTokenAsync(context, cancellationToken).ConfigureAwait(false);
        SetToken(request, token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized && IsInvalidToken(response) && _credentials.Invalidate(token))
        {
            var fresh = await _credentials.GetAccessTokenAsync(context, cancellationToken).ConfigureAwait(false);
            if (fresh != token)
            {
                response.Dispose();
                SetToken(request, fresh);
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }

        return response;
    }

    private static void SetToken(HttpRequestMessage request, string token)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Options.Set(AddedByHandler, true);
    }

    private static bool IsInvalidToken(HttpResponseMessage response) =>
        response.Headers.WwwAuthenticate.Any(challenge =>
            challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)
            && (challenge.Parameter?.Contains("invalid_token", StringComparison.Ordinal) ?? false));
}
