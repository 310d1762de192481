using System.Runtime.CompilerServices;

namespace Chekt.PartnerApi.Client.Http;

internal static class Ids
{
    /// <summary>CHeKT ids are positive; anything else is a bug of the caller, reported before any request.</summary>
    public static void Check(long id, [CallerArgumentExpression(nameof(id))] string? name = null) =>
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id, name);
}
