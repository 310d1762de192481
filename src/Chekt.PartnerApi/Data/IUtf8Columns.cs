namespace Chekt.PartnerApi.Data;

/// <summary>A reader that can give a text value as the UTF-8 its database stores, for a writer that takes bytes: no string is made.</summary>
internal interface IUtf8Columns
{
    /// <summary>
    /// The text of the current row's column as UTF-8, good until the thread's next call; false when the value is not text
    /// or cannot be read this way (the caller then uses <see cref="System.Data.Common.DbDataReader.GetString"/>).
    /// </summary>
    bool TryGetUtf8(int ordinal, out ReadOnlySpan<byte> utf8);
}
