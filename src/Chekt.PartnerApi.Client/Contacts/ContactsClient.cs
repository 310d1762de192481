using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>The Contacts API: the people called during an alarm at a site.</summary>
public sealed class ContactsClient
{
    private readonly ApiConnection _api;

    internal ContactsClient(ApiConnection api) => _api = api;

    /// <summary>Creates a contact (<c>POST /dealers/{dealerId}/sites/{siteId}/contacts</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="request">The new contact.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The created contact.</returns>
    /// <exception cref="PartnerApiException">400 for an invalid field (such as <c>email</c>); 409 <c>conflict</c> when the site already has a contact with this external id.</exception>
    public Task<Contact> CreateAsync(long dealerId, long siteId, CreateContactRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<Contact>(HttpMethod.Post, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/contacts"), request, options, cancellationToken);
    }

    /// <summary>Reads one page of the site's contacts, by id ascending (<c>GET /dealers/{dealerId}/sites/{siteId}/contacts</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="list">The page size and where to start; <see langword="null"/> for the first page at the server's default size.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ListPage<Contact>> ListAsync(long dealerId, long siteId, ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        return _api.ListAsync<Contact>(ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/contacts"), list, options, cancellationToken);
    }

    /// <summary>Every contact of the site, by id ascending, fetched page by page as you enumerate (following <c>Link: rel="next"</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="list">The page size and where to start; <see langword="null"/> for all items at the server's default page size.</param>
    /// <param name="options">Per-call options, used for every page.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public IAsyncEnumerable<Contact> ListAllAsync(long dealerId, long siteId, ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        return _api.ListAllAsync<Contact>(ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/contacts"), list, options, cancellationToken);
    }

    /// <summary>Reads a contact (<c>GET /dealers/{dealerId}/sites/{siteId}/contacts/{contactId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="contactId">The contact's CHeKT id.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="PartnerApiException">404 <c>contact_not_found</c>.</exception>
    public Task<Contact> GetAsync(long dealerId, long siteId, long contactId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        Ids.Check(contactId);
        return _api.SendAsync<Contact>(HttpMethod.Get, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/contacts/{contactId}"), null, options, cancellationToken);
    }

    /// <summary>Changes a contact; only the properties set in <paramref name="request"/> change (<c>PUT …/contacts/{contactId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="contactId">The contact's CHeKT id.</param>
    /// <param name="request">The fields to change (<see cref="Optional{T}"/>: unset stays, <see langword="null"/> clears).</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The contact as updated.</returns>
    public Task<Contact> UpdateAsync(
        long dealerId, long siteId, long contactId, UpdateContactRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        Ids.Check(contactId);
        ArgumentNullException.ThrowIfNull(request);
        return _api.SendAsync<Contact>(HttpMethod.Put, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/contacts/{contactId}"), request, options, cancellationToken);
    }

    /// <summary>Deletes a contact (<c>DELETE …/contacts/{contactId}</c>).</summary>
    /// <param name="dealerId">The dealer's CHeKT id.</param>
    /// <param name="siteId">The site's CHeKT id.</param>
    /// <param name="contactId">The contact's CHeKT id.</param>
    /// <param name="options">Per-call options (for example <see cref="RequestOptions.IfMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task DeleteAsync(long dealerId, long siteId, long contactId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        Ids.Check(dealerId);
        Ids.Check(siteId);
        Ids.Check(contactId);
        return _api.SendAsync(HttpMethod.Delete, ApiConnection.Path($"dealers/{dealerId}/sites/{siteId}/contacts/{contactId}"), null, options, cancellationToken);
    }
}
