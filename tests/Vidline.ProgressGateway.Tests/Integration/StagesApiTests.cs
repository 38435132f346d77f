using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>Clients learn the pipeline from the stage table itself, so a new stage reaches the web page with no edit there.</summary>
[Collection(nameof(GatewayFixture))]
public class StagesApiTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Stages_lists_the_stage_table_in_order_with_its_progress_bands()
    {
        var stages = (await fixture.GetJson("/stages")).EnumerateArray().ToList();

        Assert.Equal(Stages.InOrder.Select(s => s.Name), stages.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(0, stages[0].GetProperty("band_start").GetDouble());
        Assert.Equal(100, stages[^1].GetProperty("band_end").GetDouble());
        for (var i = 1; i < stages.Count; i++)
            Assert.Equal(stages[i - 1].GetProperty("band_end").GetDouble(), stages[i].GetProperty("band_start").GetDouble());
    }
}
