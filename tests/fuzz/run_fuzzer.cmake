# ctest fuzz/run/<target>: fuzz for a bounded time over a fresh copy of the
# seed corpus, so the source tree is never written to.  Crash inputs land in
# WORK/artifacts/.  Called with -DFUZZER= -DSEEDS= -DWORK= -DSECONDS=.
file(REMOVE_RECURSE ${WORK}/corpus)
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${SEEDS}/*)
file(COPY ${seeds} DESTINATION ${WORK}/corpus)
execute_process(
	COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10
		-print_final_stats=1 -artifact_prefix=${WORK}/artifacts/
		${WORK}/corpus
	RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${FUZZER} failed (${rc}); reproducer in "
		"${WORK}/artifacts/")
endif()
