using Portal.Media.Rtp;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Simulator;

public sealed class GateClipTests
{
    [Fact]
    public void Instance_EmbeddedClip_IsTenSecondsOfConstrainedBaselineWithTwoSecondGops()
    {
        var clip = GateClip.Instance;

        Assert.Equal(250, clip.Frames.Count);
        Assert.Equal("42c01e", clip.ProfileLevelId); // Constrained Baseline, level 3.0: what Chromium decodes over WebRTC
        for (var i = 0; i < clip.Frames.Count; i++)
        {
            var types = clip.Frames[i].Select(n => H264NalUnit.TypeOf(n.Span[0])).ToList();
            var keyframe = types.Contains(H264NalUnit.IdrSlice);
            Assert.Equal(i % 50 == 0, keyframe);
            if (keyframe)
            {
                Assert.Equal(H264NalUnit.Sps, types[0]);
                Assert.Contains(H264NalUnit.Pps, types);
            }
        }
    }

    [Fact]
    public void Load_NoParameterSets_Throws()
    {
        Assert.Throws<InvalidDataException>(() => GateClip.Load([0, 0, 0, 1, 0x65, 0x88]));
    }

    [Fact]
    public void SplitAnnexB_ThreeAndFourByteStartCodes_SplitsNalUnits()
    {
        byte[] stream = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5];

        var ranges = H264NalUnit.SplitAnnexB(stream);

        Assert.Equal(["670102", "6803", "650405"], ranges.Select(r => Convert.ToHexString(stream.AsSpan(r))));
    }
}
