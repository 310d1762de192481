using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Cli;

/// <summary>A client's registered RSA public key for <c>private_key_jwt</c>, stored as a public JWK.</summary>
public sealed record ClientKey(string Kid, string PublicJwk)
{
    private const int MinimumKeySizeBits = 2048;

    /// <summary>Reads the RSA keys of a JWKS file (<c>{"keys":[...]}</c>); only their public parts are kept.</summary>
    public static IReadOnlyList<ClientKey> FromJwksFile(string path)
    {
        var text = ReadKeyFile(path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new CliUsageException($"Key file '{path}' is not valid JSON.");
        }

        if (root?["keys"] is not JsonArray keys || keys.Count == 0)
        {
            throw new CliUsageException($"Key file '{path}' has no \"keys\" array with at least one key.");
        }

        var result = new List<ClientKey>();
        foreach (var key in keys)
        {
            var kty = key?["kty"]?.GetValueKind() == JsonValueKind.String ? (string?)key["kty"] : null;
            var kid = key?["kid"]?.GetValueKind() == JsonValueKind.String ? (string?)key["kid"] : null;
            var n = key?["n"]?.GetValueKind() == JsonValueKind.String ? (string?)key["n"] : null;
            var e = key?["e"]?.GetValueKind() == JsonValueKind.String ? (string?)key["e"] : null;
            if (kty != "RSA" || string.IsNullOrWhiteSpace(kid) || n is null || e is null)
            {
                throw new CliUsageException($"Key file '{path}': every key must be an RSA key with \"kid\", \"n\" and \"e\".");
            }

            if (result.Any(k => k.Kid == kid))
            {
                throw new CliUsageException($"Key file '{path}': the kid '{kid}' appears twice.");
            }

            byte[] modulus, exponent;
            try
            {
                modulus = Base64UrlEncoder.DecodeBytes(n);
                exponent = Base64UrlEncoder.DecodeBytes(e);
            }
            catch (FormatException)
            {
                throw new CliUsageException($"Key file '{path}': key '{kid}' has an invalid \"n\" or \"e\".");
            }

            result.Add(Create(kid, new RSAParameters { Modulus = modulus, Exponent = exponent }, path));
        }

        return result;
    }

    /// <summary>Reads an RSA public key (SPKI, PKCS#1) or a certificate from a PEM file.</summary>
    public static ClientKey FromPemFile(string path, string kid)
    {
        var text = ReadKeyFile(path);
        try
        {
            if (text.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal))
            {
                using var certificate = X509Certificate2.CreateFromPem(text);
                using var fromCertificate = certificate.GetRSAPublicKey()
                    ?? throw new CliUsageException($"The certificate in '{path}' does not hold an RSA key.");
                return Create(kid, fromCertificate.ExportParameters(false), path);
            }

            using var rsa = RSA.Create();
            rsa.ImportFromPem(text);
            return Create(kid, rsa.ExportParameters(false), path);
        }
        catch (Exception exception) when (exception is ArgumentException or CryptographicException)
        {
            throw new CliUsageException($"Key file '{path}' holds no RSA public key in PEM form.");
        }
    }

    private static ClientKey Create(string kid, RSAParameters parameters, string path)
    {
        if (parameters.Modulus is null || parameters.Modulus.Length * 8 < MinimumKeySizeBits)
        {
            throw new CliUsageException($"Key '{kid}' in '{path}' is shorter than {MinimumKeySizeBits} bits.");
        }

        var jwk = new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["kid"] = kid,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
        return new ClientKey(kid, jwk.ToJsonString());
    }

    private static string ReadKeyFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"Cannot read key file '{path}': {exception.Message}");
        }
    }
}
