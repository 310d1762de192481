using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Http;

namespace Chekt.PartnerApi.Tests.Http;

/// <summary>The text check every string field passes: no NUL, no lone surrogate, whether escaped or raw.</summary>
public sealed class StorableTextTests
{
    [Theory]
    [InlineData("\"plain\"", true)]
    [InlineData("\"Zoë 😀 名前\"", true)]
    [InlineData("\"\"", true)]
    [InlineData("\"tab\\tand \\u00e9 and \\ud83d\\ude00\"", true)]
    [InlineData("\"\\u0000\"", false)]
    [InlineData("\"a\\u0000b\"", false)]
    [InlineData("\"\\ud800\"", false)]
    [InlineData("\"\\udc00x\"", false)]
    [InlineData("\"x\\ud83d\"", false)]
    public void EscapedAndRawTextIsJudgedTheSame(string json, bool storable)
    {
        using var document = JsonDocument.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Equal(storable, JsonBody.IsStorableText(document.RootElement));
        if (storable)
        {
            Assert.True(JsonBody.IsStorableText(document.RootElement.GetString()!));
        }
    }

    [Theory]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // a surrogate encoded as UTF-8
    [InlineData(new byte[] { 0xC0, 0x80 })] // an overlong NUL
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0x41, 0xE2, 0x82 })] // a cut sequence
    public void RawBytesThatAreNotUtf8AreNotStorableText(byte[] invalid)
    {
        // The parser accepts them inside a string; only decoding would fail.
        using var document = JsonDocument.Parse((byte[])[(byte)'"', .. invalid, (byte)'"']);
        Assert.False(JsonBody.IsStorableText(document.RootElement));
    }
}
