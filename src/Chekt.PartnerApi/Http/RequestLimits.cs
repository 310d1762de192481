namespace Chekt.PartnerApi.Http;

public static class RequestLimits
{
    /// <summary>Largest accepted request body (spec §7: over 64 KiB is 413).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>All request headers together; beyond this Kestrel itself answers 431.</summary>
    public const int MaxHeaderBytes = 256 * 1024;

    /// <summary>Deepest JSON nesting accepted; the API's bodies are at most two levels deep.</summary>
    public const int MaxJsonDepth = 16;
}
