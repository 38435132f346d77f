// Each test class brings up a whole pipeline; two at once would fight over two CPU cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
