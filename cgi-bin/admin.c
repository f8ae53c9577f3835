/* admin — /admin/…: the HTML admin console (lib/console/). */
#include "console/admin.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve_at(lk_admin_serve, LK_ADMIN_BASE);
}
