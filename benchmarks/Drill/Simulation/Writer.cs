using System.Globalization;

namespace Resilience.Drill.Simulation;

/// <summary>One concurrent writer: a student in a class, served by one worker process of the fleet.</summary>
internal sealed record Writer(int Index, string UserId, string ClassId, int Worker)
{
    public const int StudentsPerClass = 30;

    public static Writer Create(int index, int fleetWorkers) => new(
        index,
        "u" + index.ToString("D5", CultureInfo.InvariantCulture),
        "c" + (index / StudentsPerClass).ToString("D3", CultureInfo.InvariantCulture),
        index % fleetWorkers);
}
