using Vidline.Media;

// Runs one ffmpeg (ten minutes at real-time speed) the way a stage service does, for FfmpegFaultTests. The ffmpeg is
// started from a thread that then exits, as a thread-pool thread may retire: it must keep running (PR_SET_PDEATHSIG
// fires when the thread that forked exits). Prints "ffmpeg running" once ffmpeg reports on after that thread is gone,
// or why it did not; then waits to be killed, and its ffmpeg must die with it.
var runner = new FfmpegRunner(new MediaOptions());
var arguments = new List<string> { "-progress", "pipe:1", "-nostats", "-re", "-f", "lavfi" };
HardenedInput.AddTo(arguments, "testsrc=size=160x120:rate=10:duration=600");
arguments.AddRange(["-f", "null", "-"]);

var lines = 0;
Task<FfmpegResult>? run = null;
var starter = new Thread(() => run = runner.RunFfmpegAsync(arguments, _ => Interlocked.Increment(ref lines)));
starter.Start();
starter.Join();

while (Volatile.Read(ref lines) < 30 && !run!.IsCompleted) await Task.Delay(50);
Console.WriteLine(run!.IsCompleted ? $"ffmpeg ended: {run.Exception?.InnerException?.Message ?? "exit 0"}" : "ffmpeg running");
await Task.Delay(Timeout.Infinite);
