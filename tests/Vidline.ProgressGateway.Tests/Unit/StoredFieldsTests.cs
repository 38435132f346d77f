namespace Vidline.ProgressGateway.Tests.Unit;

public class StoredFieldsTests
{
    [Fact]
    public void Text_up_to_the_limit_is_kept_and_longer_text_is_cut_with_a_mark()
    {
        var limit = new string('a', StoredFields.MaxChars);
        Assert.Same(limit, StoredFields.Cap(limit));
        Assert.Null(StoredFields.Cap(null));

        var cut = StoredFields.Cap(new string('b', 10 * StoredFields.MaxChars))!;
        Assert.Equal(StoredFields.MaxChars, cut.Length);
        Assert.EndsWith("…", cut);
    }
}
