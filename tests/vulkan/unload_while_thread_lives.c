/* A thread that used the vulkan plugin outlives the plugin's unload (another thread destroyed
 * the last context): the plugin must not leak that thread's error-message string, whose
 * pthread-key destructor can no longer run. Run under valgrind by the CTest entry
 * vulkan.unload-while-thread-lives (its "definitely lost" fails the entry). */
#include <dq/dq.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_stage = 0;
static dq_context *g_ctx = NULL;

static void set_stage(int stage) {
  pthread_mutex_lock(&g_mutex);
  g_stage = stage;
  pthread_cond_broadcast(&g_cond);
  pthread_mutex_unlock(&g_mutex);
}

static void wait_stage(int stage) {
  pthread_mutex_lock(&g_mutex);
  while (g_stage != stage) pthread_cond_wait(&g_cond, &g_mutex);
  pthread_mutex_unlock(&g_mutex);
}

static void *worker(void *arg) {
  (void)arg;
  if (dq_context_create(&g_ctx) != DQ_OK) return NULL;
  /* Discovers the plugins on this thread: their init sets this thread's message. */
  printf("backends: %d\n", (int)dq_backend_count(g_ctx));
  set_stage(1);
  wait_stage(2); /* lives on after the unload */
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 1;
  wait_stage(1);
  if (!g_ctx) return 1;
  dq_context_destroy(g_ctx); /* unloads the plugins while the worker lives */
  set_stage(2);
  pthread_join(t, NULL);
  return 0;
}
