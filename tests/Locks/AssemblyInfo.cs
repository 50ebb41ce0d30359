using Resilience.TestSupport;

[assembly: AssemblyFixture(typeof(ServiceFixture))]
