using System.Net.Http.Headers;
using System.Text;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// Client credentials with a client secret, sent as HTTP Basic authentication
/// (<c>client_secret_basic</c>, RFC 6749 §2.3.1).
/// </summary>
public sealed class ClientSecretCredentials : ClientCredentials
{
    private readonly string _clientSecret;

    /// <summary>Creates the credentials.</summary>
    /// <param name="clientId">The OAuth client id.</param>
    /// <param name="clientSecret">The client secret (shown once when the client was registered).</param>
    public ClientSecretCredentials(string clientId, string clientSecret)
        : base(clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientSecret);
        _clientSecret = clientSecret;
    }

    private protected override void Authenticate(HttpRequestMessage request, IList<KeyValuePair<string, string>> form, Uri tokenEndpoint, Uri baseAddress)
    {
        // Note: RFC 6749 §2.3.1 form-encodes both parts before joining them, so a ':' in the id cannot split it.
        var pair = $"{Uri.EscapeDataString(ClientId)}:{Uri.EscapeDataString(_clientSecret)}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
    }
}
