namespace Chekt.PartnerApi.Client;

/// <summary>Paging of a list call: lists are ordered by id, ascending.</summary>
public sealed class ListOptions
{
    /// <summary>The page size, 1 to 1000; <see langword="null"/> for the server's default (1000).</summary>
    public int? Limit { get; set; }

    /// <summary>Only items with a larger id than this (the id of the last item of the previous page).</summary>
    public long? After { get; set; }
}
