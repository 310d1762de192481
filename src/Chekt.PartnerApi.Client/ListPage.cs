using System.Collections;

namespace Chekt.PartnerApi.Client;

/// <summary>One page of a list: its items, and where the next page is when there is one.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class ListPage<T> : IReadOnlyList<T>
{
    internal ListPage(IReadOnlyList<T> items, Uri? nextPage, long? nextAfter)
    {
        Items = items;
        NextPage = nextPage;
        NextAfter = nextAfter;
    }

    /// <summary>The items of this page, by id ascending.</summary>
    public IReadOnlyList<T> Items { get; }

    /// <summary>Whether more items remain after this page.</summary>
    public bool HasMore => NextPage is not null;

    /// <summary>The next page's URL, from the answer's <c>Link: &lt;…&gt;; rel="next"</c>; <see langword="null"/> on the last page.</summary>
    public Uri? NextPage { get; }

    /// <summary>The <see cref="ListOptions.After"/> that asks for the next page; <see langword="null"/> on the last page.</summary>
    public long? NextAfter { get; }

    /// <summary>The number of items on this page.</summary>
    public int Count => Items.Count;

    /// <summary>The item at <paramref name="index"/>.</summary>
    /// <param name="index">The position on this page.</param>
    public T this[int index] => Items[index];

    /// <inheritdoc />
    public IEnumerator<T> GetEnumerator() => Items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
