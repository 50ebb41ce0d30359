using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace Resilience.Uploads.Tests;

public sealed class UploadIdTests
{
    private static readonly Gen<UploadId> AnyId =
        from ms in Gen.Choose(0, int.MaxValue).Select(i => (long)i * 131_071 % (UploadId.MaxUnixTimeMilliseconds + 1))
        from a in ArbMap.Default.GeneratorFor<ulong>()
        from b in ArbMap.Default.GeneratorFor<ulong>()
        select UploadId.Create(ms, (((UInt128)a << 64) | b) & UploadId.MaxRandom);

    [Property(MaxTest = 500)]
    public Property Text_form_parses_back_exactly() =>
        Prop.ForAll(AnyId.ToArbitrary(), id =>
        {
            var text = id.ToString();
            Assert.Equal(UploadId.TextLength, text.Length);
            Assert.Matches("^[0-7][0-9a-hjkmnp-tv-z]{25}$", text);
            Assert.Equal(id, UploadId.Parse(text));
            Assert.Equal(id, UploadId.FromGuid(id.ToGuid()));
            Assert.Equal(7, id.ToGuid().Version);
            Assert.Equal(id.UnixTimeMilliseconds, UploadId.Parse(text).UnixTimeMilliseconds);
        });

    [Property(MaxTest = 500)]
    public Property Text_order_is_id_order() =>
        Prop.ForAll(AnyId.ToArbitrary(), AnyId.ToArbitrary(), (a, b) =>
            Math.Sign(a.CompareTo(b)) == Math.Sign(string.CompareOrdinal(a.ToString(), b.ToString())));

    [Fact]
    public void Guid_layout_matches_RFC_9562()
    {
        var id = UploadId.Create(0x0123_4567_89AB, UploadId.MaxRandom);
        var guid = id.ToGuid();
        Assert.Equal("01234567-89ab-7fff-bfff-ffffffffffff", guid.ToString());
        Assert.Equal(7, guid.Version);
        Assert.Equal(0x0123_4567_89AB, id.UnixTimeMilliseconds);
        Assert.Equal(UploadId.MaxRandom, id.RandomPart);
    }

    [Fact]
    public void Guid_CreateVersion7_converts_and_v4_is_refused()
    {
        var v7 = Guid.CreateVersion7();
        Assert.Equal(v7, UploadId.FromGuid(v7).ToGuid());
        Assert.Throws<ArgumentException>(() => UploadId.FromGuid(Guid.NewGuid()));
        Assert.Throws<ArgumentException>(() => UploadId.FromGuid(Guid.Empty));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000000000000000000000000")]
    [InlineData("000000000000000000000000000")]
    [InlineData("81234567890abcdefghjkmnpqr")] // first character above 7: more than 128 bits
    [InlineData("01ARZ3NDEKTSV4RRFFQ69G5FAV")] // uppercase is not the canonical form
    [InlineData("01arz3ndektsv4rrffq69g5fai")] // 'i' is not in the alphabet
    [InlineData("00000000000000000000000000")] // version 0
    public void Parse_refuses_non_canonical_text(string text)
    {
        Assert.False(UploadId.TryParse(text, out _));
        Assert.Throws<FormatException>(() => UploadId.Parse(text));
    }

    [Fact]
    public void Default_is_empty_and_generated_ids_are_not()
    {
        Assert.True(default(UploadId).IsEmpty);
        Assert.False(new UploadIdGenerator().Next().IsEmpty);
    }

    /// <summary>Any 48-bit timestamp, a quarter of them right around the end of the year 9999.</summary>
    private static readonly Gen<long> Any48BitMilliseconds =
        Gen.Frequency(
            (3, Gen.Choose(0, int.MaxValue).Select(i => (long)i * 131_071 % (1L << 48))),
            (1, Gen.Choose(-1_000, 1_000).Select(d => UploadId.MaxUnixTimeMilliseconds + d)));

    [Property(MaxTest = 500)]
    public Property An_id_is_accepted_exactly_when_its_timestamp_is_a_DateTimeOffset() =>
        Prop.ForAll(Any48BitMilliseconds.ToArbitrary(), ms =>
        {
            var bits = UploadId.Create(ms, UploadId.MaxRandom);
            var representable = ms <= UploadId.MaxUnixTimeMilliseconds;
            Assert.Equal(representable, UploadId.TryParse(bits.ToString(), out var parsed));
            if (representable)
            {
                Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(ms), parsed.Timestamp);
                Assert.Equal(bits, UploadId.FromGuid(bits.ToGuid()));
            }
            else
            {
                Assert.Throws<ArgumentException>(() => UploadId.FromGuid(bits.ToGuid()));
            }
        });

    [Fact]
    public void Ids_at_the_end_of_the_clock_range_keep_a_timestamp()
    {
        var ids = new UploadIdGenerator(new FakeTimeProvider(DateTimeOffset.MaxValue));
        var previous = default(UploadId);
        for (var i = 0; i < 10_000; i++)
        {
            var id = ids.Next();
            Assert.True(id > previous);
            Assert.Equal(UploadId.MaxUnixTimeMilliseconds, id.Timestamp.ToUnixTimeMilliseconds());
            previous = id;
        }
    }
}
