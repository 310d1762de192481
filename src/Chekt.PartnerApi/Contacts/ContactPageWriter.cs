using System.Data.Common;
using System.Text.Json;
using System.Text.Unicode;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;

namespace Chekt.PartnerApi.Contacts;

/// <summary>
/// A page of contacts written as the API's JSON array straight from the rows of a query that selects
/// <see cref="ContactRow.Columns"/>: no row or DTO object per contact and, on SQLite, no strings, the text going
/// from SQLite's UTF-8 into the body's. The bytes are those <see cref="JsonAnswers"/> writes for a list of
/// <see cref="ContactResponse"/> (ContactPageWriterTests compares them on both databases).
/// </summary>
internal sealed class ContactPageWriter
{
    private static readonly JsonEncodedText ContactId = JsonEncodedText.Encode("contact_id");
    private static readonly JsonEncodedText ExternalContactId = JsonEncodedText.Encode("external_contact_id");
    private static readonly JsonEncodedText FirstName = JsonEncodedText.Encode("first_name");
    private static readonly JsonEncodedText LastName = JsonEncodedText.Encode("last_name");
    private static readonly JsonEncodedText PhoneNumber = JsonEncodedText.Encode("phone_number");
    private static readonly JsonEncodedText Email = JsonEncodedText.Encode("email");
    private static readonly JsonEncodedText CreatedAt = JsonEncodedText.Encode("created_at");

    // A page of ten contacts is about 2 KB; a page of a thousand, about 200 KB, grows into larger arrays.
    private readonly PooledBufferWriter _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    // Note: a JSON writer the thread has finished a page with, reused for the next page. A page takes it from here and
    // owns it until Finish, which leaves it on whatever thread finished the page: a page read asynchronously may
    // resume on another thread, and two pages never share one writer.
    [ThreadStatic]
    private static Utf8JsonWriter? t_idleWriter;

    public ContactPageWriter()
    {
        if (t_idleWriter is { } idle)
        {
            t_idleWriter = null;
            idle.Reset(_buffer);
            _writer = idle;
        }
        else
        {
            _writer = new Utf8JsonWriter(_buffer, JsonAnswers.WriterOptions);
        }

        _writer.WriteStartArray();
    }

    /// <summary>Contacts written so far.</summary>
    public int Count { get; private set; }

    /// <summary>The id of the last contact written.</summary>
    public long LastId { get; private set; }

    /// <summary>Writes the contact of the reader's current row, whose columns start at <paramref name="first"/>.</summary>
    public void Add(DbDataReader reader, int first)
    {
        // The order and names of ContactResponse; ContactRow.Columns gives id, external id, first name, last name,
        // phone, email, version, created_at.
        LastId = reader.GetInt64(first);
        _writer.WriteStartObject();
        _writer.WriteNumber(ContactId, LastId);
        WriteText(reader, first + 1, ExternalContactId);
        WriteText(reader, first + 2, FirstName);
        WriteText(reader, first + 3, LastName);
        WriteText(reader, first + 4, PhoneNumber);
        WriteText(reader, first + 5, Email);
        Span<byte> createdAt = stackalloc byte[Timestamps.Utf8Length];
        Timestamps.FormatUtf8(reader.GetInt64(first + 7), createdAt);
        _writer.WriteString(CreatedAt, createdAt);
        _writer.WriteEndObject();
        Count++;
    }

    /// <summary>The JSON array of the contacts written, in a pooled buffer that the answer returns once written.</summary>
    public PooledBufferWriter Finish()
    {
        _writer.WriteEndArray();
        _writer.Flush();
        _writer.Reset(Stream.Null);
        t_idleWriter = _writer;
        return _buffer;
    }

    private void WriteText(DbDataReader reader, int ordinal, JsonEncodedText name)
    {
        if (reader.IsDBNull(ordinal))
        {
            _writer.WriteNull(name);
        }
        // Note: text that is not valid UTF-8 (written to the file by something other than the API, which
        // refuses such bodies) goes the way of GetString, which replaces what cannot be read, as for one contact.
        else if (reader is IUtf8Columns sqlite && sqlite.TryGetUtf8(ordinal, out var utf8) && Utf8.IsValid(utf8))
        {
            _writer.WriteString(name, utf8);
        }
        else
        {
            _writer.WriteString(name, reader.GetString(ordinal));
        }
    }
}
