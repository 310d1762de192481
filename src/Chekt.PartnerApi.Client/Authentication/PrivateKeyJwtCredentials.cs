using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// Client credentials proven with a signed assertion (<c>private_key_jwt</c>, RFC 7523): a JWT signed
/// RS256 with the client's private key, header <c>kid</c> naming the registered public key,
/// <c>iss</c> = <c>sub</c> = the client id, <c>aud</c> = the server's issuer, a fresh <c>jti</c> and a
/// short lifetime. No secret is ever sent.
/// </summary>
public sealed class PrivateKeyJwtCredentials : ClientCredentials
{
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private readonly SigningCredentials _signing;

    /// <summary>Creates the credentials from an RSA private key.</summary>
    /// <param name="clientId">The OAuth client id.</param>
    /// <param name="privateKey">The RSA private key (2048 bits or more) whose public part is registered for the client. It is not copied: keep it alive and undisposed while the credentials are used.</param>
    /// <param name="keyId">The <c>kid</c> the public key was registered with.</param>
    public PrivateKeyJwtCredentials(string clientId, RSA privateKey, string keyId)
        : base(clientId)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        KeyId = keyId;
        _signing = new SigningCredentials(new RsaSecurityKey(privateKey) { KeyId = keyId }, SecurityAlgorithms.RsaSha256);
    }

    /// <summary>The <c>kid</c> of the signing key.</summary>
    public string KeyId { get; }

    /// <summary>
    /// The assertion's <c>aud</c>: the server's issuer URL (its <c>Auth:Issuer</c>, such as
    /// <c>https://api.example.com/</c>). <see langword="null"/> uses the client's base address, which is
    /// the issuer when the server is reached at its public URL.
    /// </summary>
    public string? AssertionAudience { get; init; }

    /// <summary>How long each assertion is valid (default 2 minutes; the server accepts at most 5).</summary>
    public TimeSpan AssertionLifetime { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Creates the credentials from a PEM-encoded RSA private key (PKCS#1 or PKCS#8); the other settings
    /// (<see cref="ClientCredentials.PartnerClaim"/>, <see cref="AssertionAudience"/>, …) can follow in an initializer.
    /// </summary>
    /// <param name="clientId">The OAuth client id.</param>
    /// <param name="privateKeyPem">The PEM text of the private key.</param>
    /// <param name="keyId">The <c>kid</c> the public key was registered with.</param>
    public PrivateKeyJwtCredentials(string clientId, string privateKeyPem, string keyId)
        : this(clientId, ImportPem(privateKeyPem), keyId)
    {
    }

    /// <summary>Creates the credentials from a PEM-encoded RSA private key (PKCS#1 or PKCS#8), with the default settings.</summary>
    /// <param name="clientId">The OAuth client id.</param>
    /// <param name="privateKeyPem">The PEM text of the private key.</param>
    /// <param name="keyId">The <c>kid</c> the public key was registered with.</param>
    public static PrivateKeyJwtCredentials FromPem(string clientId, string privateKeyPem, string keyId) => new(clientId, privateKeyPem, keyId);

    private static RSA ImportPem(string privateKeyPem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privateKeyPem);
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(privateKeyPem);
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private protected override void Authenticate(HttpRequestMessage request, IList<KeyValuePair<string, string>> form, Uri tokenEndpoint, Uri baseAddress)
    {
        var now = TimeProvider.GetUtcNow();
        var assertion = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = ClientId,
            Audience = AssertionAudience ?? baseAddress.AbsoluteUri,
            IssuedAt = now.UtcDateTime,
            Expires = (now + AssertionLifetime).UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = ClientId,
                // Note: the server accepts each jti once, so every token request signs a new assertion.
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = _signing,
        });
        form.Add(new("client_assertion_type", AssertionType));
        form.Add(new("client_assertion", assertion));
    }
}
