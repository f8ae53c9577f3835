/* admin — /admin/…: the HTML admin console (lib/admin*.c). */
#include "admin.h"
#include "serve.h"

int
main(void)
{
	return lk_serve_at(lk_admin_serve, LK_ADMIN_BASE);
}
