using System.Text.Json.Serialization;

namespace Chekt.PartnerApi.Client;

/// <summary>A resource read from the API, with the version tag it was read at.</summary>
public abstract class PartnerApiResource
{
    private protected PartnerApiResource()
    {
    }

    /// <summary>
    /// The <c>ETag</c> of the answer that returned this object (for example <c>"v3"</c>), when it had
    /// one — single-resource reads and writes do, list items do not. Pass it as
    /// <see cref="RequestOptions.IfMatch"/> to update only if nobody changed the resource since.
    /// </summary>
    [JsonIgnore]
    public string? ETag { get; internal set; }
}
