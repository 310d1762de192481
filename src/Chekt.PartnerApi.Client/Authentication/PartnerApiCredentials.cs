namespace Chekt.PartnerApi.Client;

/// <summary>
/// How the client authenticates to the API: <see cref="ClientSecretCredentials"/> or
/// <see cref="PrivateKeyJwtCredentials"/> (OAuth client credentials, tokens fetched from
/// <c>/oauth/token</c> and cached), or <see cref="AccessTokenCredentials"/> (a token you already have,
/// such as a dealer user's).
/// </summary>
/// <remarks>One instance holds one token cache; share it between clients that should share tokens.</remarks>
public abstract class PartnerApiCredentials
{
    private protected PartnerApiCredentials()
    {
    }

    /// <summary>An access token for the request.</summary>
    internal abstract ValueTask<string> GetAccessTokenAsync(TokenRequestContext context, CancellationToken cancellationToken);

    /// <summary>Forgets <paramref name="rejectedToken"/> when the API refused it; false when there is nothing fresher to get.</summary>
    internal virtual bool Invalidate(string rejectedToken) => false;
}

/// <summary>What a credential needs to fetch a token: where the server is, how to send to it, and the trace id of the call that needs it.</summary>
internal sealed record TokenRequestContext(Uri BaseAddress, Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> SendAsync, string? TraceId);
