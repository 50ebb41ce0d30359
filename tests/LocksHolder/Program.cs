// A separate OS process that takes a lock with Resilience.Locks and holds it, renewing, until it is killed.
// Usage: Resilience.Locks.Holder <redis configuration> <key prefix> <resource> <owner id> <ttl ms>
using System.Globalization;
using Resilience.Locks;
using StackExchange.Redis;

if (args.Length != 5)
{
    Console.Error.WriteLine("usage: Resilience.Locks.Holder <redis> <prefix> <resource> <owner> <ttl-ms>");
    return 64;
}

await using var redis = await ConnectionMultiplexer.ConnectAsync(args[0]);
using var locks = new RedisLockProvider(redis, new RedisLockOptions
{
    KeyPrefix = args[1],
    TtlMode = LockTtlMode.Fixed,
    Ttl = TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture)),
    AutoExtend = true,
});

var handle = await locks.TryAcquireAsync(args[2], args[3]);
if (handle is null)
{
    Console.WriteLine("HELD");
    return 2;
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ACQUIRED {handle.FencingToken} {Environment.ProcessId}"));
Console.Out.Flush();

// Hold until killed; stdin closing also ends it, so a crashed test never leaves it behind for long.
await Console.In.ReadToEndAsync();
await handle.DisposeAsync();
return 0;
