using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Auth;

/// <summary>Generation and verification of client ids, client secrets and other bearer values.</summary>
public static class Secrets
{
    private const string Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string HashPrefix = "sha256:";

    public static string NewClientId() => RandomNumberGenerator.GetString(Alphanumeric, 32);

    /// <summary>A bearer value with 256 bits of randomness (client secrets, codes, refresh tokens).</summary>
    public static string NewOpaqueValue() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    // Note: the values hashed here carry 256 bits of randomness, so a fast hash is enough; a slow
    // password hash would only add latency to every token request.
    public static string Hash(string value) =>
        HashPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>Compares in constant time so that timing does not reveal how much of a secret matched.</summary>
    public static bool Verify(string presented, string storedHash)
    {
        var expected = Encoding.ASCII.GetBytes(storedHash);
        var actual = Encoding.ASCII.GetBytes(Hash(presented));
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}
